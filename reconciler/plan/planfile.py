"""The saved plan file (``plan --out``): self-contained, checksummed, free of keys and secrets.

Layout (JSON, ``format_version`` 1)::

    {"format_version": 1, "tool_version": "0.1.0",
     "account": {"id": "acct_…", "mode": "test", "stripe_account": null},
     "api_version": "2026-09-30.endive",
     "desired": {…normalised manifest, Manifest.model_validate() rebuilds it…},
     "plan": {"actions": [{…, "fingerprint": "<sha256 of the live object>"}], "reports": […],
              "warnings": […], "unchanged": N},
     "targets": ["webhook_endpoints.orders", …],
     "seen": ["we_…", "taxreg_…", …],
     "plan_checksum": "<Plan.checksum>",
     "checksum": "<sha256 of the canonical JSON of every other top-level field>"}

Pure functions over strings: the CLI reads and writes the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from reconciler import __version__
from reconciler.errors import PlanFileError
from reconciler.manifest.model import Manifest
from reconciler.plan.model import Plan, sha256_of

PLAN_FILE_VERSION = 1


@dataclass(frozen=True)
class PlanFile:
    account_id: str | None
    mode: str
    stripe_account: str | None
    api_version: str
    desired: Manifest
    plan: Plan
    #: the ``--target`` addresses the plan was restricted to (apply must restrict the same way)
    targets: tuple[str, ...] = ()
    tool_version: str = __version__
    #: the ids of every live object the plan was made from, so apply can tell what was created
    #: after it (``None`` in files from before they were recorded)
    seen: tuple[str, ...] | None = None

    def body(self) -> dict[str, Any]:
        return {
            "format_version": PLAN_FILE_VERSION,
            "tool_version": self.tool_version,
            "account": {
                "id": self.account_id,
                "mode": self.mode,
                "stripe_account": self.stripe_account,
            },
            "api_version": self.api_version,
            "desired": self.desired.model_dump(mode="json"),
            "plan": self.plan.to_dict(),
            "targets": list(self.targets),
            "seen": None if self.seen is None else sorted(self.seen),
            "plan_checksum": self.plan.checksum,
        }

    @property
    def checksum(self) -> str:
        return sha256_of(self.body())


def dump_plan_file(plan_file: PlanFile, *, secrets: tuple[str, ...] = ()) -> str:
    """The file's text. Refuses (rather than writes) if any of ``secrets`` would appear in it."""
    text = json.dumps(
        {**plan_file.body(), "checksum": plan_file.checksum},
        indent=2,
        sort_keys=True,
        ensure_ascii=False,
    )
    if any(secret and secret in text for secret in secrets) or "whsec_" in text:
        raise PlanFileError("refusing to write a plan file that would contain a key or secret")
    return text + "\n"


def _ids(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError("seen is not a list of object ids")
    return tuple(value)


def load_plan_file(text: str) -> PlanFile:
    """Parse and verify a plan file; :class:`PlanFileError` if unreadable, tampered or foreign."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise PlanFileError(f"plan file is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise PlanFileError("plan file is not a JSON object")
    version = data.get("format_version")
    if version != PLAN_FILE_VERSION:
        raise PlanFileError(
            f"plan file format_version {version!r} is not supported "
            f"(this tool reads {PLAN_FILE_VERSION}); re-run plan with this version"
        )
    claimed = data.pop("checksum", None)
    if claimed != sha256_of(data):
        raise PlanFileError("plan file checksum does not match its content: it was modified")
    try:
        account = data["account"]
        plan = Plan.from_dict(data["plan"])
        plan_file = PlanFile(
            account_id=account.get("id"),
            mode=str(account["mode"]),
            stripe_account=account.get("stripe_account"),
            api_version=str(data["api_version"]),
            desired=Manifest.model_validate(data["desired"]),
            plan=plan,
            targets=tuple(str(t) for t in data.get("targets", ())),
            tool_version=str(data["tool_version"]),
            seen=_ids(data.get("seen")),
        )
    except (KeyError, TypeError, ValueError, ValidationError) as error:
        raise PlanFileError(f"plan file is incomplete or malformed: {error}") from None
    if plan.checksum != data.get("plan_checksum"):
        raise PlanFileError("plan file actions do not match their checksum")
    return plan_file
