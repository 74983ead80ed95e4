"""Alert payloads and delivery: retries with backoff, https only, no secrets, redacted URLs."""

from __future__ import annotations

import dataclasses
import json
import logging

import httpx
import pytest

from reconciler.drift.alert import (
    RetryPolicy,
    build_payload,
    deliver_alert,
    redact_url,
    validate_alert_url,
)
from reconciler.drift.model import DriftKind, DriftReport, FieldDrift, ResourceDrift
from reconciler.errors import AlertError, UsageError

SECRET = "whsec_" + "a" * 24
KEY = "sk_test_" + "b" * 24
URL = "https://hooks.example.com/services/T0/B0/" + "t" * 16


def _report() -> DriftReport:
    return DriftReport(
        account_id="acct_1",
        mode="test",
        stripe_account=None,
        checked_at="2026-11-26T03:17:00Z",
        resources_checked=3,
        drift=(
            ResourceDrift(
                "webhook_endpoints.orders",
                "webhook_endpoints",
                DriftKind.CHANGED,
                f"fields differ (note mentions {SECRET})",
                live_id="we_1",
                changes=(FieldDrift("metadata.k", KEY, "v"),),
            ),
        ),
        tool_version="0.1.0",
    )


class Receiver:
    """A scripted MockTransport: answers statuses in order (an exception instance is raised)."""

    def __init__(self, *answers: int | Exception, headers: dict[str, str] | None = None) -> None:
        self.answers = list(answers)
        self.headers = headers or {}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(answer, headers=self.headers, text="ok")

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def test_slack_payload_has_text_and_structured_drift() -> None:
    payload = build_payload(_report(), "slack")
    assert set(payload) == {"text", "drift"}
    assert payload["text"].splitlines()[0] == (
        ":warning: *Stripe drift* in acct_1 (test mode): Drift: 1 changed."
    )
    assert payload["drift"][0]["address"] == "webhook_endpoints.orders"
    assert payload["drift"][0]["drift"] == "changed"


def test_json_payload_is_the_drift_document_plus_text() -> None:
    payload = build_payload(_report(), "json")
    assert payload["format_version"] == 1
    assert payload["in_sync"] is False
    assert payload["text"].startswith(":warning: *Stripe drift*")
    assert [d["address"] for d in payload["drift"]] == ["webhook_endpoints.orders"]


@pytest.mark.parametrize("alert_format", ["slack", "json"])
def test_payload_never_carries_a_key_or_secret(alert_format: str) -> None:
    body = json.dumps(build_payload(_report(), alert_format))
    assert SECRET not in body
    assert KEY not in body
    assert "whsec_" not in body and "sk_test_" not in body


def test_slack_text_shows_live_values_literally_and_json_text_as_they_are() -> None:
    drift = ResourceDrift(
        "webhook_endpoints.orders",
        "webhook_endpoints",
        DriftKind.CHANGED,
        "fields differ",
        live_id="we_1",
        changes=(FieldDrift("metadata.team", "<!channel> R&D", "<https://evil.example|ok>"),),
    )
    report = dataclasses.replace(_report(), drift=(drift,))
    slack = build_payload(report, "slack")["text"].splitlines()[-1]
    assert "&lt;!channel&gt; R&amp;D" in slack and "&lt;https://evil.example|ok&gt;" in slack
    assert "<" not in slack and ">" not in slack.replace("&gt;", "")
    text = build_payload(report, "json")["text"].splitlines()[-1]
    assert "<!channel> R&D" in text and "<https://evil.example|ok>" in text


def test_unknown_alert_format() -> None:
    with pytest.raises(UsageError, match="unknown alert format 'teams'"):
        build_payload(_report(), "teams")


def test_delivered_first_time_without_sleeping() -> None:
    receiver = Receiver(200)
    sleeps: list[float] = []
    status = deliver_alert(URL, {"text": "x"}, transport=receiver.transport, sleep=sleeps.append)
    assert status == 200
    assert sleeps == []
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {"text": "x"}


def test_retries_5xx_429_and_network_errors_with_exponential_backoff() -> None:
    receiver = Receiver(503, httpx.ConnectError("refused"), 429, 204)
    sleeps: list[float] = []
    status = deliver_alert(URL, {"text": "x"}, transport=receiver.transport, sleep=sleeps.append)
    assert status == 204
    assert len(receiver.requests) == 4
    assert sleeps == [0.5, 1.0, 2.0]


def test_retry_after_is_honoured_but_capped() -> None:
    receiver = Receiver(429, 429, 200, headers={"Retry-After": "3"})
    sleeps: list[float] = []
    deliver_alert(
        URL,
        {},
        policy=RetryPolicy(attempts=3, cap=2.5),
        transport=receiver.transport,
        sleep=sleeps.append,
    )
    assert sleeps == [2.5, 2.5]


def test_gives_up_after_the_last_attempt_with_a_redacted_message() -> None:
    receiver = Receiver(500, 500, 500)
    sleeps: list[float] = []
    with pytest.raises(AlertError) as raised:
        deliver_alert(
            URL,
            {},
            policy=RetryPolicy(attempts=3),
            transport=receiver.transport,
            sleep=sleeps.append,
        )
    assert str(raised.value) == (
        "could not deliver the drift alert to https://hooks.example.com/…: HTTP 500 "
        "(after 3 attempts)."
    )
    assert sleeps == [0.5, 1.0]
    assert len(receiver.requests) == 3


def test_client_errors_are_not_retried() -> None:
    receiver = Receiver(404)
    sleeps: list[float] = []
    with pytest.raises(AlertError, match=r"HTTP 404 \(after 1 attempt\)\.$"):
        deliver_alert(URL, {}, transport=receiver.transport, sleep=sleeps.append)
    assert sleeps == []


def test_network_error_message_names_the_error_type_not_the_url() -> None:
    receiver = Receiver(*[httpx.ReadTimeout("slow")] * 2)
    with pytest.raises(AlertError) as raised:
        deliver_alert(
            URL,
            {},
            policy=RetryPolicy(attempts=2),
            transport=receiver.transport,
            sleep=lambda _: None,
        )
    assert "network error: ReadTimeout" in str(raised.value)
    assert "services" not in str(raised.value)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.slack.com/services/x",
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://[::1]:9000/hook",
    ],
)
def test_accepted_urls(url: str) -> None:
    assert validate_alert_url(url) == url


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.example.com/x", "must use https:// (plain http is only allowed for loop"),
        ("ftp://hooks.example.com/x", "must be an absolute https:// URL"),
        ("/relative/path", "must be an absolute https:// URL"),
        ("https://host:notaport/x", "is not a valid URL"),
    ],
)
def test_rejected_urls(url: str, message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace("/", "/")):
        validate_alert_url(url)


def test_redact_url_keeps_only_scheme_host_and_port() -> None:
    assert redact_url("https://hooks.slack.com/services/T/B/secret?x=1") == (
        "https://hooks.slack.com/…"
    )
    assert redact_url("http://127.0.0.1:8123/path") == "http://127.0.0.1:8123/…"


def test_the_alert_url_path_never_reaches_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    receiver = Receiver(503, 200)
    with caplog.at_level(logging.DEBUG):
        deliver_alert(URL, {}, transport=receiver.transport, sleep=lambda _: None)
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "HTTP Request: POST https://hooks.example.com/… " in text  # httpx's own line
    assert "drift alert to https://hooks.example.com/… failed (HTTP 503); retry 1" in text
    assert "services" not in text and "t" * 16 not in text
