"""SharedListing: every creator gets a listing sent after its own create completed, and the
creates that finish together share one."""

from __future__ import annotations

import asyncio

import pytest

from reconciler.apply.listing import Listing, SharedListing


class Recorder:
    """A fake list call that records when it was sent, relative to the creates."""

    def __init__(self, fail: bool = False) -> None:
        self.events: list[str] = []
        self.fail = fail

    async def fetch(self) -> Listing:
        self.events.append("list")
        await asyncio.sleep(0)
        if self.fail:
            raise RuntimeError("list failed")
        return ({"id": f"we_{len(self.events)}"},)

    async def create(self, name: str, gate: asyncio.Event) -> str:
        await gate.wait()
        await asyncio.sleep(0)  # a create is a round trip: others run meanwhile
        self.events.append(f"created {name}")
        return name


def test_creates_that_finish_together_share_one_listing_sent_after_the_last() -> None:
    async def go() -> tuple[list[tuple[str, Listing]], Recorder, int]:
        recorder = Recorder()
        shared = SharedListing(recorder.fetch)
        gates = [asyncio.Event() for _ in range(3)]
        tasks = [
            asyncio.ensure_future(shared.create_then_list(recorder.create(n, g)))
            for n, g in zip("abc", gates, strict=True)
        ]
        for gate in gates:  # the creates complete one after another
            await asyncio.sleep(0)
            gate.set()
            await asyncio.sleep(0)
        return list(await asyncio.gather(*tasks)), recorder, shared.fetches

    results, recorder, fetches = asyncio.run(go())
    assert recorder.events == ["created a", "created b", "created c", "list"]
    assert results == [(n, ({"id": "we_4"},)) for n in "abc"]
    assert fetches == 1


def test_sequential_creates_each_get_their_own_fresh_listing() -> None:
    async def go() -> tuple[Recorder, int]:
        recorder = Recorder()
        shared = SharedListing(recorder.fetch)
        for name in "ab":
            gate = asyncio.Event()
            gate.set()
            await shared.create_then_list(recorder.create(name, gate))
        return recorder, shared.fetches

    recorder, fetches = asyncio.run(go())
    assert recorder.events == ["created a", "list", "created b", "list"]
    assert fetches == 2


def test_a_failed_create_lists_nothing_and_releases_the_waiting_creators() -> None:
    async def failing() -> str:
        await asyncio.sleep(0.01)
        raise ValueError("create failed")

    async def go() -> tuple[list[object], Recorder]:
        recorder = Recorder()
        shared = SharedListing(recorder.fetch)
        done = asyncio.Event()
        done.set()
        outcomes = await asyncio.gather(
            shared.create_then_list(recorder.create("a", done)),
            shared.create_then_list(failing()),
            return_exceptions=True,
        )
        return list(outcomes), recorder

    outcomes, recorder = asyncio.run(go())
    assert outcomes[0] == ("a", ({"id": "we_2"},))
    assert isinstance(outcomes[1], ValueError)
    assert recorder.events == ["created a", "list"]


def test_a_failed_listing_hands_every_creator_none_and_their_creates_stand() -> None:
    async def go() -> list[object]:
        recorder = Recorder(fail=True)
        shared = SharedListing(recorder.fetch)
        done = asyncio.Event()
        done.set()
        return list(
            await asyncio.gather(
                *(shared.create_then_list(recorder.create(n, done)) for n in "ab"),
                return_exceptions=True,
            )
        )

    outcomes = asyncio.run(go())
    # each creator keeps what its create returned: a secret must never be dropped for a check
    assert outcomes == [("a", None), ("b", None)]


@pytest.mark.parametrize("parallelism", [1, 4])
def test_listings_per_create_follow_the_parallelism(parallelism: int) -> None:
    async def go() -> int:
        recorder = Recorder()
        shared = SharedListing(recorder.fetch)
        slots = asyncio.Semaphore(parallelism)

        async def one(name: str) -> None:
            async with slots:
                gate = asyncio.Event()
                gate.set()
                await shared.create_then_list(recorder.create(name, gate))

        await asyncio.gather(*(one(f"e{i}") for i in range(16)))
        return shared.fetches

    assert asyncio.run(go()) == 16 // parallelism


def test_a_failed_listing_warns_with_the_kinds_own_noun(caplog: pytest.LogCaptureFixture) -> None:
    """An event destination's listing is no "webhook endpoints" listing."""

    async def go() -> None:
        recorder = Recorder(fail=True)
        shared = SharedListing(recorder.fetch, what="event destinations")
        done = asyncio.Event()
        done.set()
        await shared.create_then_list(recorder.create("a", done))

    with caplog.at_level("WARNING", logger="reconciler.apply.listing"):
        asyncio.run(go())
    assert [r.getMessage() for r in caplog.records] == [
        "listing the event destinations after a create failed: list failed"
    ]
