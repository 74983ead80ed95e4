"""Form encoding: bracket notation as Stripe's SDKs send it, cross-checked with stripe-python."""

from __future__ import annotations

import datetime
import enum
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
from stripe._encode import _api_encode

from reconciler.stripe import encode_form, form_pairs


class Behavior(enum.Enum):
    EXCLUSIVE = "exclusive"


@pytest.mark.parametrize(
    ("params", "pairs"),
    [
        ({"url": "https://x.test/h"}, [("url", "https://x.test/h")]),
        ({"description": ""}, [("description", "")]),
        ({"description": None, "url": "u"}, [("url", "u")]),
        ({"disabled": True, "connect": False}, [("disabled", "true"), ("connect", "false")]),
        ({"limit": 100, "rate": 1.5}, [("limit", "100"), ("rate", "1.5")]),
        ({"amount": Decimal("1.10")}, [("amount", "1.10")]),
        (
            {"enabled_events": ["charge.failed", "invoice.paid"]},
            [("enabled_events[0]", "charge.failed"), ("enabled_events[1]", "invoice.paid")],
        ),
        ({"enabled_events": [True]}, [("enabled_events[0]", "true")]),
        (
            {"defaults": {"tax_behavior": "exclusive", "tax_code": None}},
            [("defaults[tax_behavior]", "exclusive")],
        ),
        (
            {"defaults": {"tax_behavior": Behavior.EXCLUSIVE}},
            [("defaults[tax_behavior]", "exclusive")],
        ),
        (
            {"head_office": {"address": {"country": "US", "postal_code": "94103"}}},
            [
                ("head_office[address][country]", "US"),
                ("head_office[address][postal_code]", "94103"),
            ],
        ),
        (
            {
                "country_options": {
                    "us": {
                        "state": "CA",
                        "state_sales_tax": {
                            "elections": [{"type": "local_use_tax", "jurisdiction": "06"}]
                        },
                    }
                }
            },
            [
                ("country_options[us][state]", "CA"),
                ("country_options[us][state_sales_tax][elections][0][type]", "local_use_tax"),
                ("country_options[us][state_sales_tax][elections][0][jurisdiction]", "06"),
            ],
        ),
        (
            {"metadata": {"team": "payments", "old": ""}},
            [("metadata[team]", "payments"), ("metadata[old]", "")],
        ),
        ({"metadata": ""}, [("metadata", "")]),
        ({"metadata": {}, "expand": []}, []),
        ({"grid": [[1, 2], [3]]}, [("grid[0][0]", "1"), ("grid[0][1]", "2"), ("grid[1][0]", "3")]),
        (
            {"expires_at": datetime.datetime(2027, 1, 1, tzinfo=datetime.timezone.utc)},
            [("expires_at", "1798761600")],
        ),
    ],
)
def test_form_pairs(params: dict[str, Any], pairs: list[tuple[str, str]]) -> None:
    assert form_pairs(params) == pairs
    assert encode_form(params) == urlencode(pairs)


def test_encoded_body_percent_encodes_brackets_and_values() -> None:
    body = encode_form({"metadata": {"team": "a&b c"}, "enabled_events": ["*"]})
    assert body == "metadata%5Bteam%5D=a%26b+c&enabled_events%5B0%5D=%2A"


def test_empty_params_encode_to_nothing() -> None:
    assert encode_form(None) == ""
    assert encode_form({}) == ""


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"enabled_events": ["a", None]},
            "cannot form-encode None as an array item at enabled_events[1]",
        ),
        (
            {"at": datetime.datetime(2027, 1, 1)},
            "cannot form-encode a naive datetime at at; give it a tzinfo",
        ),
        ({"blob": b"raw"}, "cannot form-encode a bytes at blob"),
        ({"s": {1, 2}}, "cannot form-encode a set at s"),
    ],
)
def test_unencodable_values_raise(params: dict[str, Any], message: str) -> None:
    with pytest.raises(TypeError) as caught:
        form_pairs(params)
    assert str(caught.value) == message


# stripe-python renders booleans inside arrays as "True", so the cross-check keeps them at map
# level (where both agree on "true"/"false").
SDK_CROSS_CHECK = [
    {"url": "https://example.test/hook", "enabled_events": ["invoice.paid", "charge.failed"]},
    {"description": "", "metadata": {"a": "1", "b": ""}, "disabled": False, "connect": True},
    {
        "head_office": {
            "address": {"line1": "510 Townsend St", "city": "San Francisco", "state": "CA"}
        }
    },
    {"defaults": {"tax_behavior": "inclusive", "tax_code": "txcd_10000000"}, "expand": ["x", "y"]},
    {
        "country": "US",
        "country_options": {
            "us": {
                "type": "state_sales_tax",
                "state": "CA",
                "state_sales_tax": {
                    "elections": [
                        {"type": "local_use_tax", "jurisdiction": "06"},
                        {"type": "simplified_sellers_use_tax"},
                    ]
                },
            }
        },
        "active_from": "now",
        "expires_at": 1798761600,
        "skipped": None,
    },
    {"nested": [[{"deep": [1, {"k": "v & w"}]}]], "metadata": ""},
]


@pytest.mark.parametrize("params", SDK_CROSS_CHECK)
def test_matches_stripe_python_encoder(params: dict[str, Any]) -> None:
    assert encode_form(params) == urlencode(list(_api_encode(params)))
