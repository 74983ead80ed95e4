"""Table-driven plan cases: one YAML file per scenario in ``cases/``.

A case holds ``desired`` (a manifest), ``live`` (raw Stripe objects per kind) and ``expect``:
``summary`` (the exact summary line), ``actions`` (address, action, live_id, changes as
``[path, before, after]``, optionally the exact ``reason`` and ``requests``), ``reports``
(addresses, or ``{address: message}`` for exact messages), ``warnings`` (exact list) and
``unchanged``; or ``error`` + ``message`` for a safety refusal (``force_lifts: true`` when
--force must lift it); or ``build_error`` + ``message`` for a plan that cannot be built (Stripe
would refuse it half-way). An optional top-level ``now`` (unix seconds) fixes the planner's
clock, for cases about time windows; an optional ``targets`` list plans as ``--target`` does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from plan_helpers import live_state

from reconciler import errors
from reconciler.manifest.model import Manifest
from reconciler.plan.builder import build_plan, check_safety

CASES = sorted((Path(__file__).parent / "cases").glob("*.yaml"))


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 30


def plan_case(case: dict[str, Any], manifest: Manifest) -> Any:
    return build_plan(
        manifest,
        live_state(case.get("live")),
        now=case.get("now"),
        targets=tuple(case.get("targets", ())),
    )


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case(path: Path) -> None:
    case = load(path)
    manifest = Manifest.model_validate(case["desired"])
    expect = case["expect"]
    if "build_error" in expect:
        with pytest.raises(getattr(errors, expect["build_error"])) as refused:
            plan_case(case, manifest)
        assert str(refused.value) == expect["message"]
        return
    plan = plan_case(case, manifest)

    if "error" in expect:
        error_type = getattr(errors, expect["error"])
        with pytest.raises(error_type) as caught:
            check_safety(plan, manifest, force=False)
        assert str(caught.value) == expect["message"]
        if expect.get("force_lifts"):
            check_safety(plan, manifest, force=True)
        else:
            with pytest.raises(error_type):
                check_safety(plan, manifest, force=True)
    else:
        check_safety(plan, manifest, force=False)

    assert plan.summary.line() == expect["summary"]
    actual = [
        {
            "address": a.address,
            "action": a.action.value,
            "live_id": a.live_id,
            "changes": [[c.path, c.before, c.after] for c in a.changes],
        }
        for a in plan.actions
    ]
    wanted = [
        {
            "address": a["address"],
            "action": a["action"],
            "live_id": a.get("live_id"),
            "changes": a.get("changes", []),
        }
        for a in expect.get("actions", [])
    ]
    assert actual == wanted
    for action, spec in zip(plan.actions, expect.get("actions", []), strict=True):
        if "reason" in spec:
            assert action.reason == spec["reason"]
        if "requests" in spec:
            assert [r.to_dict() for r in action.requests] == [
                {"params": {}, **r} for r in spec["requests"]
            ]
    reports = expect.get("reports", [])
    if isinstance(reports, dict):
        assert {r.address: r.message for r in plan.reports} == reports
    else:
        assert [r.address for r in plan.reports] == reports
    assert list(plan.warnings) == expect.get("warnings", [])
    if "unchanged" in expect:
        assert plan.unchanged == expect["unchanged"]


def test_times_in_reasons_are_utc_whatever_the_local_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plans are read in pull requests by people in any zone: dates are UTC, marked ``Z``; one
    no calendar can show is shown as the number it is."""
    import time

    from reconciler.resources.tax_registration_windows import iso

    monkeypatch.setenv("TZ", "Pacific/Auckland")
    time.tzset()
    try:
        test_case(next(p for p in CASES if p.stem.startswith("68_")))
        assert iso(1751728000) == "2025-07-05T15:06:40Z"
        assert iso(10**20) == str(10**20)
    finally:
        monkeypatch.undo()
        time.tzset()
