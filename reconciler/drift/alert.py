"""Drift alerts: POST a JSON payload to a webhook (Slack incoming webhook or any HTTP receiver).

Both payload formats carry a Slack-compatible ``text`` and a structured ``drift`` list:

- ``slack``: ``{"text": …, "drift": [...]}`` — Slack shows ``text`` and ignores the rest;
- ``json``: the whole drift JSON document (README "Drift JSON format") plus ``text``.

Delivery retries network errors, 429 and 5xx with capped exponential backoff (honouring
``Retry-After``); any other answer, or running out of attempts, raises :class:`AlertError`.
The alert URL is itself a credential (Slack webhook URLs are), so messages and logs name only its
scheme and host. Payloads come from the masked report, so they hold no key or signing secret.
"""

from __future__ import annotations

import ipaddress
import logging
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from reconciler.drift.model import DriftReport, account_label, summary_line
from reconciler.drift.render import describe_change, drift_entry, report_document
from reconciler.errors import AlertError, UsageError

logger = logging.getLogger(__name__)

ALERT_FORMATS = ("slack", "json")
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Slack truncates long messages anyway; keep the human part short and point at the structure.
_MAX_TEXT_ITEMS = 20


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` in total; the n-th retry waits ``min(cap, base * 2**(n-1))`` seconds."""

    attempts: int = 4
    base: float = 0.5
    cap: float = 8.0
    timeout: float = 10.0

    def delay(self, retry: int, retry_after: str | None = None) -> float:
        if retry_after is not None:
            try:
                return min(self.cap, max(0.0, float(retry_after)))
            except ValueError:
                pass  # an HTTP date; fall back to our own backoff
        return min(self.cap, self.base * float(2 ** (retry - 1)))


def redact_url(url: str) -> str:
    """``https://hooks.slack.com/…``: enough to say where, never the secret path or query."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}/…"


class _AlertUrlFilter(logging.Filter):
    """Hides alert URLs in httpx's own ``HTTP Request: POST <url>`` log line.

    The path of a Slack (or similar) webhook URL is the credential, and httpx logs it at INFO.
    """

    def __init__(self) -> None:
        super().__init__()
        self.urls: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and self.urls:
            record.args = tuple(
                redact_url(str(arg)) if str(arg) in self.urls else arg for arg in record.args
            )
        return True


_URL_FILTER = _AlertUrlFilter()
logging.getLogger("httpx").addFilter(_URL_FILTER)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_alert_url(url: str) -> str:
    """Accept absolute https URLs, and plain http only for loopback receivers (tests, sidecars)."""
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as error:
        raise UsageError(f"--alert-url is not a valid URL ({error}).") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError("--alert-url must be an absolute https:// URL.")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise UsageError(
            f"--alert-url {redact_url(url)} must use https:// "
            "(plain http is only allowed for loopback addresses)."
        )
    return url


def alert_text(report: DriftReport) -> str:
    """The Slack-compatible human message (mrkdwn)."""
    lines = [f":warning: *Stripe drift* in {account_label(report)}: {summary_line(report)}"]
    for item in report.drift[:_MAX_TEXT_ITEMS]:
        lines.append(f"• `{item.address}` {item.drift.value}: {item.message}")
        lines.extend(f"    ◦ {describe_change(c)}" for c in item.changes[:5])
    hidden = len(report.drift) - _MAX_TEXT_ITEMS
    if hidden > 0:
        lines.append(f"…and {hidden} more (see the `drift` list).")
    return "\n".join(lines)


def slack_escape(text: str) -> str:
    """``text`` as Slack shows it literally: Slack reads ``<…>`` as a link or a mention
    (``<!channel>``) and wants ``&``, ``<`` and ``>`` escaped as HTML entities
    (api.slack.com/reference/surfaces/formatting#escaping). A drifted value is live data."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def build_payload(report: DriftReport, alert_format: str = "slack") -> dict[str, Any]:
    """The JSON body to POST for ``report`` in one of :data:`ALERT_FORMATS`."""
    if alert_format == "slack":
        return {
            "text": slack_escape(alert_text(report)),
            "drift": [drift_entry(d) for d in report.drift],
        }
    if alert_format == "json":
        return {"text": alert_text(report), **report_document(report)}
    raise UsageError(f"unknown alert format {alert_format!r}; choose slack or json.")


def deliver_alert(
    url: str,
    payload: dict[str, Any],
    *,
    policy: RetryPolicy = RetryPolicy(),  # frozen, so sharing the default is safe
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """POST ``payload`` as JSON; return the receiver's status. Raises :class:`AlertError`."""
    where = redact_url(validate_alert_url(url))
    _URL_FILTER.urls.add(str(httpx.URL(url)))
    last_problem = "no attempt made"
    attempts = max(1, policy.attempts)
    attempt = 0
    with httpx.Client(transport=transport, timeout=policy.timeout) as client:
        for attempt in range(1, attempts + 1):
            retry_after: str | None = None
            try:
                response = client.post(url, json=payload)
            except httpx.TransportError as error:
                last_problem = f"network error: {type(error).__name__}"
            else:
                if response.is_success:
                    logger.info("drift alert delivered to %s (attempt %d)", where, attempt)
                    return response.status_code
                last_problem = f"HTTP {response.status_code}"
                if response.status_code not in RETRY_STATUSES:
                    break
                retry_after = response.headers.get("Retry-After")
            if attempt < attempts:
                wait = policy.delay(attempt, retry_after)
                logger.warning(
                    "drift alert to %s failed (%s); retry %d in %.1fs",
                    where,
                    last_problem,
                    attempt,
                    wait,
                )
                sleep(wait)
    raise AlertError(
        f"could not deliver the drift alert to {where}: {last_problem} "
        f"(after {attempt} attempt{'s' if attempt != 1 else ''})."
    )
