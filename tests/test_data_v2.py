"""The packaged v2 facts (``v2-event-destinations.json``) re-derived from stripe-python.

The file was derived from the installed SDK by ``tests/v2_derive.py``; deriving it again must
give the same document, so a hand edit that invents or forgets something fails here, and so does
an SDK upgrade that changes the v2 event destination API (refresh the file then).
"""

from __future__ import annotations

import json
from pathlib import Path

import v2_derive

from reconciler import data


def test_the_packaged_file_is_what_the_sdk_says() -> None:
    packaged = json.loads(Path(data.__file__).with_name(data.V2_FILE).read_text(encoding="utf-8"))
    assert packaged.pop("x-source") == v2_derive.SOURCE
    assert packaged == v2_derive.derive()


def test_the_loaders_read_it() -> None:
    schema = data.component("v2.core.event_destination")
    assert schema["properties"]["created"] == {"type": "string"}  # v2 times are strings
    # EventBridge's region is a create parameter the object never returns
    eventbridge = schema["properties"]["amazon_eventbridge"]["properties"]
    assert "aws_region" not in eventbridge
    assert (
        "aws_region"
        in data.v2()["requests"]["create"]["properties"]["amazon_eventbridge"]["properties"]
    )
    # v1 components still come from the OpenAPI subset
    assert (
        data.component("webhook_endpoint")
        is data.spec()["components"]["schemas"]["webhook_endpoint"]
    )
    thin = data.thin_events()
    assert "v2.core.event_destination.ping" in thin
    assert "v1.billing.meter.error_report_triggered" in thin
    assert "invoice.paid" not in thin and "*" not in thin
    assert data.v2()["api_version"] == data.pinned_api_version()
