"""Property: whatever the live account holds, export → YAML → load → plan has no actions."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.data import enabled_events
from reconciler.export.build import KINDS, build_export
from reconciler.export.write import render_manifest
from reconciler.manifest import load_manifests
from reconciler.plan.builder import build_plan
from reconciler.resources.base import LiveState

EVENTS = sorted(enabled_events())
TEXT = st.text(
    alphabet=st.characters(
        codec="utf-8", categories=("L", "N", "P", "S", "Zs"), exclude_characters="\x85\u2028\u2029"
    ),
    min_size=1,
    max_size=40,
)
URL = st.builds(
    lambda host, path: f"https://{host}.example.com/{path}",
    st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9_./$-]{0,20}", fullmatch=True),
)
METADATA = st.dictionaries(st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True), TEXT, max_size=4)
STATES = ["CA", "NY", "TX", "WA", "FL", "IL"]
NOW = 1_750_000_000  # the plan's clock


@st.composite
def endpoints(draw: st.DrawFn) -> list[dict[str, Any]]:
    out = []
    for index in range(draw(st.integers(0, 5))):
        tagged = draw(st.booleans())
        metadata = draw(METADATA)
        if tagged:
            metadata = {
                **metadata,
                "managed_by": "stripe-reconciler",
                "reconciler_name": f"n{index}",
                "reconciler_connect": draw(st.sampled_from(["true", "false"])),
            }
        out.append(
            {
                "id": f"we_{index:04d}",
                "object": "webhook_endpoint",
                "url": draw(URL),
                "enabled_events": draw(st.lists(st.sampled_from(EVENTS), min_size=1, max_size=4)),
                "description": draw(st.none() | TEXT),
                "status": draw(st.sampled_from(["enabled", "disabled"])),
                "api_version": draw(st.none() | st.sampled_from(["2024-06-20", "2020-08-27"])),
                "metadata": metadata,
            }
        )
    return out


@st.composite
def registrations(draw: st.DrawFn) -> list[dict[str, Any]]:
    out = []
    for index, state in enumerate(draw(st.lists(st.sampled_from(STATES), unique=True))):
        start = draw(st.integers(1_600_000_000, 1_900_000_000))
        end = draw(st.none() | st.integers(start + 1, start + 10**8))
        # Stripe's status "can be deduced from active_from and expires_at" (at the plan's clock)
        status = (
            "scheduled"
            if start > NOW
            else "expired"
            if end is not None and end <= NOW
            else "active"
        )
        out.append(
            {
                "id": f"taxreg_{index:04d}",
                "object": "tax.registration",
                "country": "US",
                "country_options": {"us": {"state": state, "type": "state_sales_tax"}},
                "active_from": start,
                "expires_at": end,
                "status": status,
            }
        )
    return out


SETTINGS = st.fixed_dictionaries(
    {
        "object": st.just("tax.settings"),
        "status": st.sampled_from(["active", "pending"]),
        "defaults": st.fixed_dictionaries(
            {
                "provider": st.just("stripe"),
                "tax_behavior": st.none() | st.sampled_from(["exclusive", "inclusive"]),
                "tax_code": st.none() | st.just("txcd_10000000"),
            }
        ),
        "head_office": st.none()
        | st.fixed_dictionaries(
            {
                "address": st.fixed_dictionaries(
                    {"country": st.just("US"), "line1": st.none() | TEXT}
                )
            }
        ),
    }
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(endpoints(), registrations(), SETTINGS, st.booleans())
def test_export_plans_back_to_no_changes(
    hooks: list[dict[str, Any]], regs: list[dict[str, Any]], tax: dict[str, Any], adopt: bool
) -> None:
    live = LiveState(
        objects={
            "webhook_endpoints": tuple(hooks),
            "tax_registrations": tuple(regs),
            "tax_settings": (tax,),
        }
    )
    export = build_export(live, adopt=adopt, mode="test")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.yaml"
        path.write_text(render_manifest(export, KINDS, "s.json"), encoding="utf-8")
        manifest = load_manifests([path], environ={}).manifest
    plan = build_plan(manifest, live, now=NOW)
    # only untagged endpoints that --adopt declared may differ: they are adopted, nothing else
    adopted = sorted(
        f"webhook_endpoints.{n}" for n in export.section("webhook_endpoints") if "-example-com" in n
    )
    assert [(a.action.value, a.address) for a in plan.actions] == [("adopt", a) for a in adopted]
    if not adopt:
        assert adopted == []
