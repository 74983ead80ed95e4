"""Unix timestamps as every output shows them: UTC ISO-8601 (``2026-01-01T00:00:00Z``).

One formatting for plan, drift, export and validation messages, so a reviewer reads the same date
everywhere. Python's dates end with 9999-12-31T23:59:59Z: validation refuses later timestamps in
manifests (:data:`MAX_TIMESTAMP`), and a live object can still carry anything, so
:func:`iso_utc` returns ``None`` for a value it cannot show rather than raising.
"""

from __future__ import annotations

import datetime as dt

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)

#: 9999-12-31T23:59:59Z, the last second a date can show.
MAX_TIMESTAMP = (dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc) - _EPOCH) // (
    dt.timedelta(seconds=1)
)


def iso_utc(seconds: object) -> str | None:
    """``seconds`` (a unix timestamp) as ``YYYY-MM-DDTHH:MM:SSZ``; ``None`` when it is not an
    integer or has no date (before year 1, after year 9999)."""
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        return None
    try:
        moment = _EPOCH + dt.timedelta(seconds=seconds)
    except OverflowError:
        return None
    return moment.isoformat().replace("+00:00", "Z")  # strftime's %Y is not zero-padded everywhere
