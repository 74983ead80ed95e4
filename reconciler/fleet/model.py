"""Pydantic models of the fleet file: one manifest set, many connected accounts.

::

    version: 1
    manifests: [base/]                 # relative to this file: what every account gets
    accounts:
      - stripe_account: acct_123
        vars: {SHOP_HOST: a.example.com}   # ${SHOP_HOST} in the manifests, this account only
        manifests: [overlays/acct_123/]    # optional, merged on top (the usual duplicate rules)
    connected_accounts:                # optional: also every connected account of the platform
      metadata: {stripe_reconciler: "on"}  # … whose metadata holds all of these
    rate_limits:                       # optional; see RateLimits
      per_account: {rate: 24, operation_rate: 24}
      platform: {rate: 24, operation_rate: 24}

Models are frozen and forbid unknown keys, like the manifest's (:mod:`reconciler.manifest.model`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, StrictFloat, StrictStr

from reconciler.manifest.model import StrictModel

#: The fleet file format version this tool reads.
FLEET_VERSION = 1

ACCOUNT_PATTERN = r"^acct_[A-Za-z0-9]+$"
VARIABLE_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"

AccountId = Annotated[StrictStr, Field(pattern=ACCOUNT_PATTERN)]
Rate = Annotated[StrictFloat, Field(gt=0, le=10_000)]
ManifestPath = Annotated[StrictStr, Field(min_length=1)]


class Budget(StrictModel):
    """Requests per second; unset: the client's defaults for the key (24 test, 80 live, and 24
    per operation), which leave room under Stripe's limits (25/s test, 100/s live, 25/s per
    API endpoint)."""

    rate: Rate | None = Field(None, description="Requests per second overall.")
    operation_rate: Rate | None = Field(
        None,
        description="Requests per second per operation (method and path, such as "
        "POST /v1/tax/registrations).",
    )


def _off(value: Any) -> Any:
    """``platform: false`` (and ``null``): no platform-wide budget."""
    return None if value is False else value


class RateLimits(StrictModel):
    """How the fleet's requests are paced. Stripe limits requests per account; whether a
    request a platform makes with ``Stripe-Account`` counts against the connected account, the
    platform or both is not documented, so both budgets apply by default (the conservative
    choice) and either can be changed. ``platform: false`` counts nothing against the platform
    (each connected account only its own), which is faster if Stripe counts that way; it is
    read as ``None``."""

    per_account: Budget = Field(
        default_factory=Budget, description="Each connected account's own budget."
    )
    platform: Annotated[Budget | None, BeforeValidator(_off)] = Field(
        default_factory=Budget,
        description="The budget of every request of the fleet together; false: none.",
    )


class ConnectedAccounts(StrictModel):
    """Select the platform's connected accounts (``GET /v1/accounts``) by metadata."""

    metadata: dict[StrictStr, StrictStr] = Field(
        default_factory=dict,
        description="Every key must be present with exactly this value; empty: every account.",
    )


class FleetAccount(StrictModel):
    """One connected account the fleet names."""

    stripe_account: AccountId = Field(description="The connected account (Stripe-Account).")
    vars: dict[Annotated[StrictStr, Field(pattern=VARIABLE_PATTERN)], StrictStr] = Field(
        default_factory=dict,
        description="Variables for ${VAR} in the manifests, for this account only (they win "
        "over the environment).",
    )
    manifests: list[ManifestPath] = Field(
        default_factory=list,
        description="More manifest files or directories for this account, relative to the "
        "fleet file, merged with the fleet's (a name may be declared once).",
    )


class FleetFile(StrictModel):
    """The fleet file: the manifests every account gets, and which accounts."""

    version: Literal[1] = Field(description="Fleet file format, always 1.")
    manifests: list[ManifestPath] = Field(
        default_factory=list,
        description="Manifest files or directories every account gets, relative to the fleet file.",
    )
    accounts: list[FleetAccount] = Field(
        default_factory=list, description="Connected accounts named one by one."
    )
    connected_accounts: ConnectedAccounts | None = Field(
        None,
        description="Also every connected account of the platform whose metadata matches.",
    )
    rate_limits: RateLimits = Field(
        default_factory=RateLimits, description="How the fleet's requests are paced."
    )
