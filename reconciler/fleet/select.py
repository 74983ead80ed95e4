"""Which accounts a run covers: the fleet's, narrowed by ``--accounts`` and ``--shard I/N``.

A shard is a stable partition by account id: account ``a`` is in shard ``i`` of ``n`` when
``sha256(a) mod n == i - 1``. It depends on nothing but the id, so ``--shard 1/N`` … ``N/N``
on N machines (a CI matrix) cover every account exactly once, whatever order the accounts are
listed in and whichever accounts are added, and each account stays in its shard as the fleet
grows (as long as ``N`` does not change).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.errors import UsageError
from reconciler.fleet.load import Fleet, Member
from reconciler.manifest.suggest import did_you_mean

#: ASCII digits only: ``\d`` alone would also read other scripts' digits
_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$", re.ASCII)
_ACCOUNT = re.compile(r"^acct_[A-Za-z0-9]+$")


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (from 1) of ``count``."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1:
            raise UsageError(f"--shard {self}: N, the number of shards, must be at least 1")
        if not 1 <= self.index <= self.count:
            raise UsageError(
                f"--shard {self.index}/{self.count}: the shard must be from 1 to {self.count}"
            )

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def holds(self, stripe_account: str) -> bool:
        # the whole digest, as the module docstring and README state it, so anyone can tell
        # which shard holds an account (``printf %s acct_… | sha256sum``)
        digest = hashlib.sha256(stripe_account.encode("utf-8")).digest()
        return int.from_bytes(digest, "big") % self.count == self.index - 1


def parse_shard(text: str) -> Shard:
    """``2/4`` → :class:`Shard` (``UsageError`` for anything else)."""
    found = _SHARD.match(text)
    if found is None:
        raise UsageError(f"--shard expects I/N such as 2/4 (shard I of N), got {text!r}")
    return Shard(int(found.group(1)), int(found.group(2)))


def parse_accounts(values: Iterable[str]) -> tuple[str, ...]:
    """``--accounts acct_1,acct_2`` (repeatable) → the ids, each once, in order."""
    ids: dict[str, None] = {}
    for value in values:
        for part in value.split(","):
            account = part.strip()
            if not account:
                continue
            if _ACCOUNT.match(account) is None:
                raise UsageError(
                    f"--accounts: {account!r} is not an account id like acct_1A2b3C "
                    "(comma-separated)"
                )
            ids[account] = None
    if not ids:
        raise UsageError("--accounts names no account; give ids like acct_1A2b3C, comma-separated")
    return tuple(ids)


def metadata_matches(account: Mapping[str, Any], wanted: Mapping[str, str]) -> bool:
    """Whether a connected account's metadata holds every wanted key with its value."""
    metadata = account.get("metadata")
    if not isinstance(metadata, Mapping):
        return not wanted
    return all(metadata.get(key) == value for key, value in wanted.items())


def select_members(
    fleet: Fleet,
    connected: Sequence[str] = (),
    *,
    accounts: Sequence[str] = (),
    shard: Shard | None = None,
) -> tuple[Member, ...]:
    """The accounts of this run, by id: the fleet's named accounts and ``connected`` (the
    platform's accounts that matched ``connected_accounts``), then narrowed to ``accounts``
    and ``shard``. A named account also found by listing keeps its own settings."""
    members = {member.stripe_account: member for member in fleet.named}
    for stripe_account in connected:
        members.setdefault(stripe_account, fleet.member(stripe_account))
    _refuse_case_twins(members)
    if not members:
        # A fleet of nobody is a mistake (another platform's key, a metadata typo), never a
        # green check: a nightly drift over zero accounts would pass forever. An empty shard
        # of a non-empty fleet is fine.
        raise UsageError(
            f"the fleet {fleet.file} covers no account: it names none, and no connected account "
            "of the platform has the metadata its connected_accounts asks for (check the key's "
            "platform and the metadata filter)"
        )
    if accounts:
        unknown = [account for account in accounts if account not in members]
        if unknown:
            hint = did_you_mean(unknown[0], list(members)) or ""
            raise UsageError(
                f"--accounts: {', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not "
                f"in the fleet {fleet.file}{hint}"
            )
        members = {account: members[account] for account in accounts}
    chosen = [m for m in members.values() if shard is None or shard.holds(m.stripe_account)]
    return tuple(sorted(chosen, key=lambda member: member.stripe_account))


def _refuse_case_twins(members: Mapping[str, Member]) -> None:
    """Secrets are stored under the upper-cased id: two ids that differ only in case would
    share them (the fleet file refuses such twins; listing could still bring one in)."""
    seen: dict[str, str] = {}
    for account in members:
        twin = seen.setdefault(account.upper(), account)
        if twin != account:
            raise UsageError(
                f"the fleet has accounts {twin} and {account}, which differ only in case; their "
                "signing secrets would share variable names, so the fleet refuses to run"
            )
