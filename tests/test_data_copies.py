"""The package's copies of the Stripe API facts must match their source in shared/."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler import data

SHARED = Path(__file__).resolve().parents[2] / "shared" / "stripe-api"


@pytest.mark.parametrize("name", [data.OPENAPI_FILE, data.EVENTS_FILE])
def test_copy_matches_shared_source(name: str) -> None:
    source = SHARED / name
    if not source.exists():
        pytest.skip(f"{source} is not beside this checkout")
    packaged = Path(data.__file__).with_name(name)
    assert packaged.read_bytes() == source.read_bytes(), f"refresh reconciler/data/{name}"


def test_loaders_read_the_copies() -> None:
    assert data.openapi()["info"]["version"] == "2026-09-30.endive"
    events = data.enabled_events()
    assert "*" in events
    assert "invoice.paid" in events
    assert "invoice.payed" not in events
    # the file's 269 values plus the seven 2026-10-28.endive added (api-2026-10-28.endive.json)
    assert len(events) == 269 + 7
