"""Which accounts a run covers: ``--shard I/N`` (a stable partition: the shards of 1/N … N/N are
disjoint and cover every account), ``--accounts``, and the platform's listed accounts."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.errors import UsageError
from reconciler.fleet.load import load_fleet
from reconciler.fleet.select import (
    Shard,
    metadata_matches,
    parse_accounts,
    parse_shard,
    select_members,
)

ACCOUNT_IDS = st.from_regex(r"acct_[A-Za-z0-9]{1,20}", fullmatch=True)


@given(accounts=st.sets(ACCOUNT_IDS, max_size=60), count=st.integers(min_value=1, max_value=12))
def test_the_shards_are_disjoint_and_cover_every_account(accounts: set[str], count: int) -> None:
    shards = [
        {account for account in accounts if Shard(index, count).holds(account)}
        for index in range(1, count + 1)
    ]
    assert set().union(*shards) == accounts
    assert sum(len(shard) for shard in shards) == len(accounts)


@given(account=ACCOUNT_IDS, count=st.integers(min_value=1, max_value=50))
def test_an_account_is_in_exactly_one_shard(account: str, count: int) -> None:
    assert sum(Shard(i, count).holds(account) for i in range(1, count + 1)) == 1


def test_shards_split_a_fleet_roughly_evenly() -> None:
    accounts = [f"acct_1{n:015d}" for n in range(1000)]
    sizes = [sum(Shard(i, 4).holds(a) for a in accounts) for i in range(1, 5)]
    assert sum(sizes) == 1000
    assert min(sizes) > 200  # a hash, not a range: no shard is starved


def test_the_partition_depends_on_the_id_alone() -> None:
    # The same id lands in the same shard on every machine and every run (sha256, not hash()).
    assert [Shard(i, 3).holds("acct_1Example") for i in (1, 2, 3)] == [False, True, False]


@given(account=ACCOUNT_IDS, count=st.integers(min_value=1, max_value=64))
def test_an_account_is_in_the_shard_the_readme_formula_gives(account: str, count: int) -> None:
    # README: "account `a` is in shard `sha256(a) mod N + 1`", so a user can tell which CI
    # job owns an account (`printf %s acct_… | sha256sum`) without running the tool.
    digest = int(hashlib.sha256(account.encode()).hexdigest(), 16)
    assert Shard(digest % count + 1, count).holds(account)


@pytest.mark.parametrize(
    ("text", "shard"), [("1/1", Shard(1, 1)), ("2/4", Shard(2, 4)), (" 3 / 3 ", Shard(3, 3))]
)
def test_parse_shard(text: str, shard: Shard) -> None:
    assert parse_shard(text) == shard
    assert str(shard) == text.replace(" ", "")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0/4", "--shard 0/4: the shard must be from 1 to 4"),
        ("5/4", "--shard 5/4: the shard must be from 1 to 4"),
        ("1/0", "--shard 1/0: N, the number of shards, must be at least 1"),
        ("0/0", "--shard 0/0: N, the number of shards, must be at least 1"),
        ("١/٢", "--shard expects I/N such as 2/4 (shard I of N), got '١/٢'"),
        ("2", "--shard expects I/N such as 2/4 (shard I of N), got '2'"),
        ("a/b", "--shard expects I/N such as 2/4 (shard I of N), got 'a/b'"),
        ("-1/4", "--shard expects I/N such as 2/4 (shard I of N), got '-1/4'"),
    ],
)
def test_bad_shards_are_one_clear_error(text: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_shard(text)
    assert str(caught.value) == message


def test_parse_accounts_takes_commas_and_repeats() -> None:
    assert parse_accounts(["acct_1,acct_2", " acct_3 ", "acct_1"]) == ("acct_1", "acct_2", "acct_3")
    with pytest.raises(UsageError, match="'acct-1' is not an account id"):
        parse_accounts(["acct-1"])
    with pytest.raises(UsageError, match="names no account"):
        parse_accounts([" , "])


def test_metadata_matching() -> None:
    assert metadata_matches({"metadata": {"a": "1", "b": "2"}}, {"a": "1"})
    assert not metadata_matches({"metadata": {"a": "2"}}, {"a": "1"})
    assert not metadata_matches({"metadata": {}}, {"a": "1"})
    assert metadata_matches({"metadata": None}, {})


@pytest.fixture
def fleet_file(tmp_path: Path) -> Path:
    path = tmp_path / "fleet.yaml"
    path.write_text(
        "version: 1\nmanifests: [base/]\naccounts:\n"
        "  - {stripe_account: acct_2B, vars: {X: b}}\n  - {stripe_account: acct_1A}\n"
        "connected_accounts: {metadata: {on: 'yes'}}\n",
        encoding="utf-8",
    )
    return path


def test_members_are_named_and_listed_accounts_in_id_order(fleet_file: Path) -> None:
    fleet = load_fleet(fleet_file)
    members = select_members(fleet, ["acct_3C", "acct_2B"])
    assert [m.stripe_account for m in members] == ["acct_1A", "acct_2B", "acct_3C"]
    by_id = {m.stripe_account: m for m in members}
    assert dict(by_id["acct_2B"].vars) == {"X": "b"}  # named and listed: its own settings
    assert by_id["acct_3C"].named is False


def test_accounts_narrow_and_unknown_ones_are_refused(fleet_file: Path) -> None:
    fleet = load_fleet(fleet_file)
    chosen = select_members(fleet, ["acct_3C"], accounts=("acct_3C", "acct_1A"))
    assert [m.stripe_account for m in chosen] == ["acct_1A", "acct_3C"]
    with pytest.raises(UsageError) as caught:
        select_members(fleet, [], accounts=("acct_1B",))
    assert str(caught.value) == (
        f"--accounts: acct_1B is not in the fleet {fleet_file}; did you mean 'acct_2B' or "
        "'acct_1A'?"
    )


def test_a_shard_narrows_the_members(fleet_file: Path) -> None:
    fleet = load_fleet(fleet_file)
    listed = [f"acct_9{n}" for n in range(20)]
    every = {m.stripe_account for m in select_members(fleet, listed)}
    parts = [
        {m.stripe_account for m in select_members(fleet, listed, shard=Shard(i, 3))}
        for i in (1, 2, 3)
    ]
    assert set().union(*parts) == every and sum(map(len, parts)) == len(every)


def test_listed_accounts_differing_only_in_case_are_refused(fleet_file: Path) -> None:
    with pytest.raises(UsageError, match="acct_1A and acct_1a, which differ only in case"):
        select_members(load_fleet(fleet_file), ["acct_1a"])


def test_a_fleet_that_covers_no_account_is_an_error(tmp_path: Path) -> None:
    # Only connected_accounts, and the platform has no account with that metadata: a nightly
    # drift over nobody would stay green forever.
    path = tmp_path / "fleet.yaml"
    path.write_text(
        "version: 1\nmanifests: [base/]\nconnected_accounts: {metadata: {on: 'yes'}}\n",
        encoding="utf-8",
    )
    fleet = load_fleet(path)
    with pytest.raises(UsageError) as caught:
        select_members(fleet, [])
    assert str(caught.value).startswith(f"the fleet {path} covers no account: it names none")
    assert [m.stripe_account for m in select_members(fleet, ["acct_1"])] == ["acct_1"]


def test_an_empty_shard_of_a_fleet_is_not_an_error(fleet_file: Path) -> None:
    fleet = load_fleet(fleet_file)
    empty = next(
        Shard(i, 50)
        for i in range(1, 51)
        if not any(Shard(i, 50).holds(a) for a in ("acct_1A", "acct_2B"))
    )
    assert select_members(fleet, [], shard=empty) == ()
