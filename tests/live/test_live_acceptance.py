"""The live acceptance suite: the same steps against the bundled emulator (default, CI) or a
Stripe sandbox (``STRIPE_RECONCILER_LIVE_TEST_KEY``); see README "Live acceptance suite"."""

from __future__ import annotations

import pytest
from live_run import LiveRun
from live_steps import run_acceptance

pytestmark = pytest.mark.live


def test_plan_apply_drift_fix_export_and_clean_up(live_run: LiveRun) -> None:
    run_acceptance(live_run)
