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
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

from reconciler import __version__
from reconciler.errors import PlanFileError
from reconciler.manifest.humanize import model_diagnostics
from reconciler.manifest.model import Manifest
from reconciler.manifest.yamlsource import SourceMap
from reconciler.plan.model import Plan, sha256_of
from reconciler.resources.registry import KIND_ORDER

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
            "desired": self.desired.model_dump(
                # another mode gives tuples where JSON has lists, which serialise the same
                mode="json",  # pragma: no mutate
            ),
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


class _Shape(BaseModel):
    """Base of the plan file's shape: exact JSON types, no unknown keys."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


_AccountId = Annotated[str, Field(pattern=r"^acct_[A-Za-z0-9]+$")]


class _AccountShape(_Shape):
    id: _AccountId | None
    mode: Literal["test", "live"]
    stripe_account: _AccountId | None


class _ChangeShape(_Shape):
    path: str
    before: JsonValue
    after: JsonValue


class _RequestShape(_Shape):
    step: str
    method: Literal["GET", "POST", "DELETE"]
    # v1 paths, and v2 ones (event destinations, reconciler.stripe.v2)
    path: Annotated[str, Field(pattern=r"^/v[12]/")]
    params: dict[str, JsonValue]


if TYPE_CHECKING:
    _Kind = str
else:
    # the registered kinds, in order (a refused kind's message lists them)
    _Kind = Literal[tuple(KIND_ORDER)]


class _ActionShape(_Shape):
    kind: _Kind
    address: str
    action: Literal["create", "update", "adopt", "replace", "delete", "expire"]
    reason: str
    live_id: str | None
    changes: list[_ChangeShape]
    requests: list[_RequestShape]
    warnings: list[str]
    fingerprint: str | None
    protected: bool


class _ReportShape(_Shape):
    kind: _Kind
    address: str
    live_id: str | None
    message: str


class _PlanShape(_Shape):
    actions: list[_ActionShape]
    reports: list[_ReportShape]
    warnings: list[str]
    unchanged: Annotated[int, Field(ge=0)]


class _PlanFileShape(_Shape):
    """Every field of :meth:`PlanFile.body`; ``desired`` is checked by :class:`Manifest`."""

    format_version: Literal[1]
    tool_version: str
    account: _AccountShape
    api_version: str
    desired: dict[str, JsonValue]
    plan: _PlanShape
    targets: list[str]
    seen: list[str] | None = None
    plan_checksum: str


def _malformed(error: ValidationError, model: type[BaseModel], raw: Any, base: str = "") -> str:
    """The first problem, located and phrased as validate phrases manifest problems."""
    # a plan file has no line numbers: only the path and the text of a problem are shown
    nowhere = SourceMap("plan file")  # pragma: no mutate
    found = model_diagnostics(error, model, raw, nowhere, ())
    first = found[0]
    # both models validate a mapping, and every problem of a mapping sits at a key
    where = f"{first.path}: "
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    return f"plan file is malformed (edited by hand?): {base}{where}{first.message}{more}"


def load_plan_file(text: str | bytes) -> PlanFile:
    """Parse and verify a plan file; :class:`PlanFileError` if unreadable, tampered or foreign.

    Beyond the checksums (which only say the file is what some writer wrote), the whole
    structure is validated, so a hand-edited file with recomputed checksums is refused with the
    place of its first problem instead of failing later in apply.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode()  # UTF-8, as bytes.decode always is unless told otherwise
        except UnicodeDecodeError as error:
            raise PlanFileError(
                f"plan file is not UTF-8 text (byte 0x{text[error.start]:02x} at offset "
                f"{error.start}); give apply --plan the file plan --out wrote"
            ) from None
    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise PlanFileError("plan file is not a JSON object")
        claimed = data.pop("checksum", None)
        actual = sha256_of(data)
    except json.JSONDecodeError as error:
        raise PlanFileError(f"plan file is not valid JSON: {error}") from None
    except RecursionError:
        raise PlanFileError("plan file is nested too deeply to be a plan file") from None
    version = data.get("format_version")
    if version != PLAN_FILE_VERSION:
        raise PlanFileError(
            f"plan file format_version {version!r} is not supported "
            f"(this tool reads {PLAN_FILE_VERSION}); re-run plan with this version"
        )
    if claimed != actual:
        raise PlanFileError("plan file checksum does not match its content: it was modified")
    try:
        shape = _PlanFileShape.model_validate(data)
    except ValidationError as error:
        raise PlanFileError(_malformed(error, _PlanFileShape, data)) from None
    try:
        desired = Manifest.model_validate(data["desired"])
    except ValidationError as error:
        raise PlanFileError(_malformed(error, Manifest, data["desired"], "desired: ")) from None
    plan = Plan.from_dict(data["plan"])
    if plan.checksum != shape.plan_checksum:
        raise PlanFileError("plan file actions do not match their checksum")
    return PlanFile(
        account_id=shape.account.id,
        mode=shape.account.mode,
        stripe_account=shape.account.stripe_account,
        api_version=shape.api_version,
        desired=desired,
        plan=plan,
        targets=tuple(shape.targets),
        tool_version=shape.tool_version,
        seen=None if shape.seen is None else tuple(shape.seen),
    )
