"""Benchmarks that measure plan and apply against their physical limits (issue 9).

Run from the repository root, e.g. ``.venv/bin/python -m bench.run_all``; see ``bench/README.md``.
"""
