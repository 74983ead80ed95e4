"""Error bodies as Stripe shapes them: ``type``, ``code``, ``param``, ``message``, ``doc_url``.

Codes are Stripe's (the ``code`` values stripe-python 16.1.0's error objects list); every coded
error links ``https://stripe.com/docs/error-codes/<code with dashes>``. The 409 of a key still
in flight is in ``test_server.py`` (it needs two requests at once over a socket).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

HEAD_OFFICE = {"head_office[address][country]": "US"}


def _error(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    error: dict[str, Any] = response.json()["error"]
    return error


@pytest.mark.parametrize(
    ("path", "data", "code", "param"),
    [
        (
            "/v1/webhook_endpoints",
            {"url": "https://e.com/h", "enabled_events[]": "charge.failed", "colour": "red"},
            "parameter_unknown",
            "colour",
        ),
        (
            "/v1/webhook_endpoints",
            {"url": "https://e.com/h"},
            "parameter_missing",
            "enabled_events",
        ),
        (
            "/v1/webhook_endpoints",
            {"url": "ftp://e.com/h", "enabled_events[]": "charge.failed"},
            "url_invalid",
            "url",
        ),
        (
            "/v1/tax/settings",
            {"defaults[tax_code]": ""},
            "parameter_invalid_empty",
            "defaults[tax_code]",
        ),
        (
            "/v1/tax/registrations",
            {
                "country": "GB",
                "country_options[gb][type]": "standard",
                "active_from": "now",
                "expires_at": "tomorrow",
            },
            "parameter_invalid_integer",
            "expires_at",
        ),
    ],
)
def test_parameter_errors_carry_stripes_code_and_doc_url(
    client: httpx.Client, path: str, data: dict[str, str], code: str, param: str
) -> None:
    client.post("/v1/tax/settings", data=HEAD_OFFICE)
    error = _error(client.post(path, data=data))
    assert error["type"] == "invalid_request_error"
    assert (error["code"], error["param"]) == (code, param)
    assert error["doc_url"] == "https://stripe.com/docs/error-codes/" + code.replace("_", "-")


def test_exclusive_pagination_parameters(client: httpx.Client) -> None:
    error = _error(
        client.get(
            "/v1/webhook_endpoints", params={"starting_after": "we_1", "ending_before": "we_2"}
        )
    )
    assert error["code"] == "parameters_exclusive"
    assert error["doc_url"] == "https://stripe.com/docs/error-codes/parameters-exclusive"


def test_missing_object_is_resource_missing(client: httpx.Client) -> None:
    response = client.get("/v1/tax/registrations/taxreg_nope")
    assert response.status_code == 404
    assert response.json()["error"] == {
        "type": "invalid_request_error",
        "code": "resource_missing",
        "param": "id",
        "message": "No such tax.registration: 'taxreg_nope'",
        "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
    }


def test_an_unknown_enum_value_has_no_code(client: httpx.Client) -> None:
    """No Stripe error code names it, so the body has none (and no doc_url)."""
    error = _error(client.post("/v1/tax/settings", data={"defaults[tax_behavior]": "often"}))
    assert error["param"] == "defaults[tax_behavior]"
    assert "code" not in error and "doc_url" not in error
