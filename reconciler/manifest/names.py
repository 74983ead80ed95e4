"""Names derived from a logical name, shared by every step that needs them.

The secrets-file variable is where apply stores a signing secret: ``STRIPE_WEBHOOK_SECRET_<NAME>``
for a webhook endpoint, ``STRIPE_EVENT_DESTINATION_SECRET_<NAME>`` for a webhook event
destination (the two sections may use one logical name, so their variables never collide).
Validation refuses two logical names that map to one variable, export never hands out such a
pair, and apply writes under it: all three must agree, so the mapping lives here, once.
"""

from __future__ import annotations

import re

#: prefix of a webhook endpoint's secrets-file variable (dotenv line or JSON key)
SECRET_VARIABLE_PREFIX = "STRIPE_WEBHOOK_SECRET_"
#: prefix of an event destination's secrets-file variable
DESTINATION_SECRET_PREFIX = "STRIPE_EVENT_DESTINATION_SECRET_"

_NOT_VARIABLE = re.compile(r"[^A-Z0-9_]")


def secret_variable(
    name: str, account: str | None = None, *, prefix: str = SECRET_VARIABLE_PREFIX
) -> str:
    """``orders-eu`` → ``STRIPE_WEBHOOK_SECRET_ORDERS_EU`` (anything not [A-Z0-9_] becomes _).

    With ``account`` (a fleet's connected account), the account comes first:
    ``STRIPE_WEBHOOK_SECRET_ACCT_123_ORDERS_EU``, so the endpoints of one logical name in two
    accounts never share a variable. An account id is ``acct_`` and letters and digits, so
    where it ends is never in doubt; ids that differ only in case would share one, which the
    fleet refuses (:mod:`reconciler.fleet`). ``prefix`` is the kind's own (event destinations
    have theirs).
    """
    if account is not None:
        prefix += _NOT_VARIABLE.sub("_", account.upper()) + "_"
    return prefix + _NOT_VARIABLE.sub("_", name.upper())
