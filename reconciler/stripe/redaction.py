"""Keep API keys and signing secrets out of log records and error messages.

Our own code never logs a key, but text we do not control can carry one: an error message a
server echoes back, an exception from the HTTP stack, or httpx/httpcore's own debug logging
(httpcore logs request/response metadata at DEBUG; some versions and HTTP/2's hpack log header
lists). :class:`RedactingFilter` is attached to those loggers so whatever they emit is scrubbed
before any handler sees it. httpx's own INFO line (``HTTP Request: GET <url> ...``) also loses
its query string, since query values are not ours to vouch for.
"""

from __future__ import annotations

import logging
import re

import httpx

REDACTED = "***"

# Order matters: credentials after "Bearer"/"Basic" first (whatever they look like), then
# anything shaped like a key or signing secret on its own. Eight or more token characters, so
# prose such as "basic auth" survives.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\b(bearer|basic)\s+[\w.~+/=-]{8,}"), rf"\1 {REDACTED}"),
    (re.compile(r"\b(sk|rk|pk)_(test|live)_[A-Za-z0-9]+"), rf"\1_\2_{REDACTED}"),
    (re.compile(r"\bwhsec_[A-Za-z0-9+/=]+"), f"whsec_{REDACTED}"),
    (re.compile(r"(?i)(b?['\"]authorization['\"],\s*b?['\"])[^'\"]*"), rf"\1{REDACTED}"),
)

#: Loggers of the HTTP stack. A filter on a logger only sees records created on that very
#: logger (not on its children), so each emitting logger is listed.
THIRD_PARTY_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
    "hpack",
    "hpack.hpack",
    "h2",
)


def redact(text: str) -> str:
    """``text`` with every key-, secret- or credential-looking token replaced."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record's message with :func:`redact`; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_without_query(arg) for arg in record.args)
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the emitter's bug; still hide its args
            message = str(record.msg)
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg = cleaned
            record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            # Formatters print exceptions from exc_info, which we cannot rewrite safely; keep
            # the (already scrubbed) message and drop the exception text.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def _without_query(arg: object) -> object:
    if isinstance(arg, httpx.URL) and arg.query:
        return str(arg).partition("?")[0] + "?…"
    return arg


_FILTER = RedactingFilter()


def install_log_redaction(extra_loggers: tuple[str, ...] = ()) -> None:
    """Attach the redacting filter to the HTTP stack's loggers (idempotent)."""
    for name in (*THIRD_PARTY_LOGGERS, *extra_loggers):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
