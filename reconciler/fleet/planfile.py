"""The saved fleet plan (``plan --fleet FILE --out PLAN``): one plan file per account, together.

Layout (JSON)::

    {"format_version": 1, "kind": "fleet", "tool_version": "0.1.0",
     "rate_limits": {…the fleet file's…},
     "accounts": [{…one account's plan file (reconciler.plan.planfile), its own checksum…}, …],
     "checksum": "<sha256 of the canonical JSON of every other top-level field>"}

Each account's part is exactly a single-account plan file, with its own checksum and its
connected account, so ``apply --plan`` checks each account against its own part and refuses
only the parts that are stale; the outer checksum refuses a file that was edited at all. The
fleet file's rate limits travel with the plan: apply paces itself as the plan was made to.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, JsonValue, ValidationError

from reconciler import __version__
from reconciler.errors import PlanFileError
from reconciler.fleet.model import RateLimits
from reconciler.plan.model import sha256_of
from reconciler.plan.planfile import PLAN_FILE_VERSION, PlanFile, dump_plan_file, load_plan_file

FLEET_KIND = "fleet"


@dataclass(frozen=True)
class FleetPlanFile:
    """The plans of a fleet's accounts (each names its connected account) and its pace."""

    parts: tuple[PlanFile, ...]
    rate_limits: RateLimits
    tool_version: str = __version__

    def body(self, *, secrets: tuple[str, ...] = ()) -> dict[str, Any]:
        return {
            "format_version": PLAN_FILE_VERSION,
            "kind": FLEET_KIND,
            "tool_version": self.tool_version,
            "rate_limits": self.rate_limits.model_dump(mode="json"),
            # each part as dump_plan_file writes it (which refuses keys and secrets)
            "accounts": [json.loads(dump_plan_file(p, secrets=secrets)) for p in self.parts],
        }

    @property
    def checksum(self) -> str:
        return sha256_of(self.body())

    def part(self, stripe_account: str) -> PlanFile | None:
        for found in self.parts:
            if found.stripe_account == stripe_account:
                return found
        return None


def dump_fleet_plan_file(plan_file: FleetPlanFile, *, secrets: tuple[str, ...] = ()) -> str:
    """The file's text (each part refused, rather than written, if it would hold a secret)."""
    body = plan_file.body(secrets=secrets)
    text = json.dumps({**body, "checksum": sha256_of(body)}, indent=2, sort_keys=True)
    return text + "\n"


class _FleetShape(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    format_version: Literal[1]
    kind: Literal["fleet"]
    tool_version: str
    rate_limits: dict[str, JsonValue]
    accounts: list[dict[str, JsonValue]]


def is_fleet_plan(data: Any) -> bool:
    """Whether parsed plan-file JSON is a fleet's (single-account files have no ``kind``)."""
    return isinstance(data, dict) and data.get("kind") == FLEET_KIND


def load_fleet_plan_file(data: dict[str, Any]) -> FleetPlanFile:
    """Verify parsed fleet plan JSON: the whole file's checksum, its shape, and every part as a
    plan file of its own (:func:`~reconciler.plan.planfile.load_plan_file`)."""
    body = dict(data)
    claimed = body.pop("checksum", None)
    if claimed != sha256_of(body):
        raise PlanFileError("plan file checksum does not match its content: it was modified")
    try:
        shape = _FleetShape.model_validate(body)
        limits = RateLimits.model_validate(shape.rate_limits)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise PlanFileError(
            f"plan file is malformed (edited by hand?): {where}: {first['msg']}"
        ) from None
    parts: list[PlanFile] = []
    for index, part in enumerate(shape.accounts):
        try:
            loaded = load_plan_file(json.dumps(part))
        except PlanFileError as error:
            raise PlanFileError(f"accounts[{index}]: {error}") from None
        if loaded.stripe_account is None:
            raise PlanFileError(
                f"accounts[{index}]: the part names no connected account (edited by hand?)"
            )
        if any(p.stripe_account == loaded.stripe_account for p in parts):
            raise PlanFileError(
                f"accounts[{index}]: {loaded.stripe_account} has two parts (edited by hand?)"
            )
        parts.append(loaded)
    return FleetPlanFile(parts=tuple(parts), rate_limits=limits, tool_version=shape.tool_version)


def load_any_plan_file(text: str | bytes) -> PlanFile | FleetPlanFile:
    """A single-account plan file or a fleet's, whichever ``text`` holds."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        return load_plan_file(text)  # its own, precise message
    if is_fleet_plan(data):
        return load_fleet_plan_file(data)
    return load_plan_file(text)
