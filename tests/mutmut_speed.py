"""A pytest plugin for mutation runs only (``[tool.mutmut] pytest_add_cli_args`` loads it).

mutmut starts pytest afresh for every mutant, in a process forked from one that has already run
the whole selection, and passes the tests that cover the mutated function in no particular order.
Two things decide how long a run from scratch takes on a small machine, and this plugin does both
without changing what any test checks:

* **Cheapest test first.** A mutant is killed by the first test that fails (mutmut passes ``-x``),
  so the covering tests run in the order of their durations recorded in ``mutmut-stats.json``
  (mutmut's own measurement, beside the mutated sources); a test it has not timed runs last.
* **No garbage collection of the inherited heap.** pytest collects garbage twice when a session
  ends; in a forked child that walks, and copies, every object the parent ever made. Freezing the
  parent's objects when each of its sessions ends leaves the children only their own to collect.
"""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest

STATS = Path("mutmut-stats.json")
# read once in mutmut's main process (its clean run), so every forked run inherits them
_durations_read: dict[str, float] = {}


def _durations() -> dict[str, float]:
    if not _durations_read:
        try:
            stats = json.loads(STATS.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # the stats run itself: nothing recorded yet
        durations = stats.get("duration_by_test", {})
        _durations_read.update(durations if isinstance(durations, dict) else {})
    return _durations_read


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    durations = _durations()
    if durations:
        items.sort(key=lambda item: durations.get(item.nodeid, float("inf")))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure() -> None:
    gc.freeze()
