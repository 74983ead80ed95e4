"""The checks of a webhook endpoint's ``url``: what Stripe delivers to, and what output may show.

An absolute ``https`` URL (plain ``http`` only for a loopback host in test mode), a port from 1 to
65535, no whitespace, control or invisible characters (a newline from ``${VAR}`` would otherwise
pass: ``urlsplit`` silently drops it), and no user name or password, which plan output and
pull-request comments would show. Messages never quote a URL that may carry a password.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})

_CHARACTER_NAMES = {" ": "a space", "\t": "a tab (U+0009)", "\n": "a line break (U+000A)"}


def _odd_character(url: str) -> str | None:
    """Whitespace, control and invisible format characters: never part of a URL as written, and
    Python's ``urlsplit`` silently drops tabs and line breaks, so they must be refused first."""
    for index, char in enumerate(url, start=1):
        category = unicodedata.category(char)
        if not (char.isspace() or category in ("Cc", "Cf")):
            continue
        code = f"U+{ord(char):04X}"
        if char in _CHARACTER_NAMES:
            what = _CHARACTER_NAMES[char]
        elif category == "Cf":
            what = f"the invisible character {code}"
        elif category == "Cc":
            what = f"the control character {code}"
        else:
            what = f"the whitespace character {code}"
        fix = "remove it or percent-encode it (%20)" if char == " " else "remove it"
        return f"the URL contains {what} at character {index}; {fix}"
    return None


def url_problem(url: str, mode: str) -> str | None:
    """Why ``url`` cannot be a webhook endpoint's URL in ``mode``, or ``None``."""
    odd = _odd_character(url)
    if odd:
        return odd
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as error:
        return f"invalid URL: {error}"
    if "@" in parts.netloc:
        # checked before any message that quotes the URL, which would then show the password
        return (
            "a webhook URL must not carry a user name or password ('…@' before the host): plan "
            "output and pull-request comments would show them; Stripe authenticates deliveries "
            "with the endpoint's signing secret"
        )
    if parts.scheme not in ("https", "http") or not host:
        shown = "the URL" if "@" in url else f"'{url}'"  # "user:pw@host" parses as a scheme
        return f"{shown} is not an absolute https URL (e.g. https://example.com/stripe/webhooks)"
    try:
        port = parts.port
    except ValueError:  # not a number, or above 65535
        port = -1
    if port is not None and not 1 <= port <= 65535:
        given = parts.netloc.rpartition(":")[2]
        return f"invalid port '{given}': expected a number from 1 to 65535"
    if parts.scheme == "http":
        if host in LOOPBACK_HOSTS and mode == "test":
            return None
        if host in LOOPBACK_HOSTS:
            return "plain http is only allowed in test mode; use https"
        return (
            "Stripe delivers webhooks over https only "
            "(http is allowed just for localhost in test mode)"
        )
    return None
