"""The mutation score per module, as README's "Mutation testing" table shows it.

Reads the results ``mutmut run`` leaves in ``mutants/`` (one ``<module>.py.meta`` JSON file per
mutated module, mutant → exit code) and prints a Markdown table: per module, the mutants, those a
test killed, those mypy rejected (``type_check_command``), those that survived or that no test
covers, and the score. Killed means caught: by a test, by mypy, or by a test run that hit mutmut's
time limit (a mutant that makes the tests loop). Survivors and mutants no test covers both count
against the score; a mutant not yet checked is an error (the run was interrupted).

    python -m bench.mutation_scores [--min-module 90] [--min-total 95]

Exits 1 when a module or the total is under its minimum, so a run can gate on it.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

# mutmut 3's exit codes (mutmut/stats.py status_by_exit_code)
KILLED = {1, 3}
TIMEOUT = {36, -24, 24, 152, 255}
TYPE_CHECK = {37}
SURVIVED = {0}
NO_TESTS = {5, 33}


@dataclass
class Score:
    module: str
    mutants: int = 0
    killed: int = 0
    mypy: int = 0
    survived: int = 0
    no_tests: int = 0
    other: int = 0

    @property
    def caught(self) -> int:
        return self.killed + self.mypy

    @property
    def percent(self) -> float:
        return 100.0 * self.caught / self.mutants if self.mutants else 100.0

    def row(self) -> str:
        return (
            f"| `{self.module}` | {self.mutants} | {self.killed} | {self.mypy} | {self.survived} "
            f"| {self.no_tests} | {self.percent:.1f}% |"
        )


def scores(mutants_dir: Path) -> list[Score]:
    result = []
    for meta in sorted(mutants_dir.rglob("*.py.meta")):
        codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        if not codes:
            continue
        score = Score(meta.relative_to(mutants_dir).as_posix().removesuffix(".meta"))
        for code in codes.values():
            score.mutants += 1
            if code is None:
                raise SystemExit(f"{meta}: a mutant was never checked; finish `mutmut run` first")
            if code in KILLED or code in TIMEOUT:
                score.killed += 1
            elif code in TYPE_CHECK:
                score.mypy += 1
            elif code in SURVIVED:
                score.survived += 1
            elif code in NO_TESTS:
                score.no_tests += 1
            else:
                score.other += 1
                score.survived += 1  # suspicious, segfault: not a catch
        result.append(score)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", type=Path, default=Path("mutants"))
    parser.add_argument("--min-module", type=float, default=90.0)
    parser.add_argument("--min-total", type=float, default=95.0)
    args = parser.parse_args(argv)
    table = scores(args.mutants)
    if not table:
        print(f"no results in {args.mutants}/: run `mutmut run` first", file=sys.stderr)
        return 1
    total = Score("total")
    for score in table:
        for name in ("mutants", "killed", "mypy", "survived", "no_tests", "other"):
            setattr(total, name, getattr(total, name) + getattr(score, name))
    print("| module | mutants | killed by a test | rejected by mypy | survived | no test | score |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for score in table:
        print(score.row())
    print(
        f"| **total** | {total.mutants} | {total.killed} | {total.mypy} | {total.survived} "
        f"| {total.no_tests} | **{total.percent:.1f}%** |"
    )
    low = [s.module for s in table if s.percent < args.min_module]
    if low or total.percent < args.min_total:
        print(
            f"under the minimum ({args.min_module}% per module, {args.min_total}% in total): "
            + (", ".join(low) or "the total"),
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
