"""The append-only event stream on the real store: versions, redeliveries, concurrent writers (R12)."""

from __future__ import annotations

import asyncio
import json
import zlib
from datetime import UTC, datetime, timedelta

import pytest
from bson import Binary

from xueji_contracts.envelope import envelop
from xueji_kit.aggregates import Decision, StreamCache, decide_and_save
from xueji_kit.event_store import EventStore, NewStream
from xueji_kit.outbox_entries import Outgoing
from xueji_kit.store import ConcurrencyConflict, connect

pytestmark = pytest.mark.integration


@pytest.fixture
def published(status_recorded):
    """Makes one student.status.v1 message for the relay, keyed by the student: `published(student)`."""

    def make(student: str) -> list[Outgoing]:
        message = envelop(
            status_recorded(student_id=student), producer="t", province="35", occurred_at=datetime.now(UTC)
        )
        return [Outgoing("student.status.v1", student, message)]

    return make


@pytest.fixture
async def store(database):
    events = EventStore(database)
    await events.ensure_indexes()
    return events


async def test_r12_second_writer_of_a_version_loses_and_nothing_is_overwritten(store):
    assert await store.append(commit_id="c1", aggregate_id="a", version=1, events=[{"n": 1}], outgoing=[])
    with pytest.raises(ConcurrencyConflict):
        await store.append(commit_id="c2", aggregate_id="a", version=1, events=[{"n": 2}], outgoing=[])
    assert [c["events"] for c in await store.load("a")] == [[{"n": 1}]]


async def test_r12_events_of_a_stream_are_its_commits_events_in_version_order(store):
    await store.append(commit_id="c1", aggregate_id="a", version=1, events=[{"n": 1}, {"n": 2}], outgoing=[])
    await store.append(commit_id="c2", aggregate_id="a", version=2, events=[{"n": 3}], outgoing=[])
    await store.append(commit_id="c3", aggregate_id="b", version=1, events=[{"n": 9}], outgoing=[])
    assert [e["n"] for e in await store.events_of("a")] == [1, 2, 3]
    assert await store.events_of("none") == []


async def test_redelivered_commit_is_a_no_op(store):
    assert await store.append(commit_id="same", aggregate_id="b", version=1, events=[{"n": 1}], outgoing=[])
    assert not await store.append(commit_id="same", aggregate_id="b", version=1, events=[{"n": 1}], outgoing=[])
    saved = await decide_and_save(store, "b", "same", lambda history: Decision([{"n": len(history)}]))
    assert not saved.stored
    assert len(await store.load("b")) == 1


async def test_a_commit_decided_again_after_later_ones_answers_its_own_version_not_the_streams_latest(store):
    """A request retried with its Idempotency-Key answers what its commit did, whatever was stored after it."""

    def appended(history: list[dict]) -> Decision:
        return Decision([{"n": len(history)}])

    assert (await decide_and_save(store, "v", "first", appended)).version == 1
    assert (await decide_and_save(store, "v", "later", appended)).version == 2
    again = await decide_and_save(store, "v", "first", appended)
    assert (again.version, again.stored) == (1, False)
    cache = StreamCache()
    assert (await decide_and_save(store, "v", "cached", appended, cache=cache)).version == 3
    assert (await decide_and_save(store, "v", "later", appended, cache=cache)).version == 2


async def test_r12_concurrent_deciders_each_get_their_own_version(store):
    async def add(n: int) -> None:
        await decide_and_save(store, "c", f"cmd-{n}", lambda history: Decision([{"n": n, "seen": len(history)}]))

    await asyncio.gather(*(add(n) for n in range(12)))
    commits = await store.load("c")
    assert [c["version"] for c in commits] == list(range(1, 13))
    assert sorted(c["events"][0]["n"] for c in commits) == list(range(12))
    # Each decision saw exactly the history before its own version: nothing decided on stale state.
    assert [c["events"][0]["seen"] for c in commits] == list(range(12))


async def test_domain_error_stores_nothing(store):
    def refuse(_history):
        raise ValueError("illegal transition from graduated")

    with pytest.raises(ValueError, match="graduated"):
        await decide_and_save(store, "d", "cmd", refuse)
    assert await store.load("d") == []


async def test_outbox_holds_only_unpublished_commits_and_drops_orphans(store, published):
    from datetime import timedelta

    out = published("s")
    assert await store.append(commit_id="c1", aggregate_id="s", version=1, events=[{"n": 1}], outgoing=out)
    assert not await store.append(commit_id="c1", aggregate_id="s", version=1, events=[{"n": 1}], outgoing=out)
    with pytest.raises(ConcurrencyConflict):
        await store.append(commit_id="c2", aggregate_id="s", version=1, events=[{"n": 2}], outgoing=out)
    ready = await store.unpublished(100)
    assert [e["commit_id"] for e in ready] == ["c1"], "the loser's staged messages are gone"
    await store.delete_published([e["_id"] for e in ready])
    assert await store.unpublished(100) == []
    # A writer that staged its messages and died before storing its commit leaves an orphan.
    await store.outbox.insert_one(
        {
            "_id": "c9",
            "commit": "s@0000000002",
            "aggregate_id": "s",
            "version": 2,
            "outgoing": [],
            "confirmed": False,
            "staged_at": datetime.now(UTC),
        }
    )
    assert await store.unpublished(100) == []
    assert await store.outbox.count_documents({}) == 1, "young: its writer may still be storing it"
    assert await store.unpublished(100, now=datetime.now(UTC) + timedelta(minutes=5)) == []
    assert await store.outbox.count_documents({}) == 0, "old and commitless: dropped"


async def test_two_writers_of_one_commit_at_once_leave_its_messages_for_the_relay(store, published):
    """Two writers store the same commit at once (a timer fired by the scheduler while the settle before it fires it
    too): one stages, the other re-stages over it and stores the commit, then the first finds its commit stored.
    Its messages must still reach the relay (they were lost: the first writer deleted the entry on its way out)."""
    from xueji_kit.commit_documents import commit_key
    from xueji_kit.event_store import _messages

    out, now = published("s"), datetime.now(UTC)
    a = await store._stage("c1", commit_key("s", 1), "s", 1, _messages(out), now)  # writer A: staged, not stored
    assert a
    assert await store.append(commit_id="c1", aggregate_id="s", version=1, events=[{"n": 1}], outgoing=out)  # B
    assert not await store._commit(commit_key("s", 1), "c1", "s", 1, [{"n": 1}], _messages(out), now, staged=a)
    ready = await store.unpublished(100, now=now + timedelta(seconds=5))
    assert [e["commit_id"] for e in ready] == ["c1"] and ready[0]["outgoing"]
    await store.delete_published([e["_id"] for e in ready])
    # A redelivery long after (a stale cache decides it again) stages anew and finds it stored: nothing twice.
    later = now + timedelta(minutes=1)
    again = await store._stage("c1", commit_key("s", 1), "s", 1, _messages(out), later)
    assert again
    assert not await store._commit(commit_key("s", 1), "c1", "s", 1, [{"n": 1}], _messages(out), later, staged=again)
    assert await store.unpublished(100, now=later + timedelta(seconds=5)) == []


async def test_a_slow_writer_and_a_second_writer_of_its_commit_leave_its_messages_for_the_relay(store, published):
    """Writer A stages a commit and its insert is slow to land (a loaded store, seconds); writer B of the same commit
    (the scheduler and a settle firing one timer) finds the entry without a commit, replaces it, and then finds A's
    commit stored. B must not take the entry for a leftover of a commit published long ago because A's commit is
    dated from before B staged: it is the only carrier of that commit's messages (lost in a full run of
    tests/reliability/test_crash_timers_firing.py: a warning recorded, never published)."""
    from xueji_kit.commit_documents import commit_key
    from xueji_kit.event_store import _messages

    out, t0 = published("s"), datetime.now(UTC)
    key, later = commit_key("s", 1), t0 + timedelta(seconds=5)
    a = await store._stage("c1", key, "s", 1, _messages(out), t0)
    b = await store._stage("c1", key, "s", 1, _messages(out), later)  # no commit yet: A's entry looks left over
    assert a and b
    assert await store._commit(key, "c1", "s", 1, [{"n": 1}], _messages(out), t0, staged=a)  # A's commit lands
    assert not await store._commit(key, "c1", "s", 1, [{"n": 1}], _messages(out), later, staged=b)
    ready = await store.unpublished(100, now=later + timedelta(seconds=5))
    assert [e["commit_id"] for e in ready] == ["c1"] and ready[0]["outgoing"]


async def test_a_stale_writer_of_a_commit_at_an_older_version_leaves_the_live_writers_entry(store, published):
    """Writer B decides a commit on a stale stream (version 2 is taken) while writer A, up to date, stores the same
    commit at version 3. B's entry, replaced by A's, must not be deleted when B's own commit loses version 2."""
    from xueji_kit.commit_documents import commit_key
    from xueji_kit.event_store import _messages

    assert await store.append(commit_id="c0", aggregate_id="s", version=1, events=[{"n": 0}], outgoing=[])
    assert await store.append(commit_id="c1", aggregate_id="s", version=2, events=[{"n": 1}], outgoing=[])
    out, now = published("s"), datetime.now(UTC)
    b = await store._stage("c2", commit_key("s", 2), "s", 2, _messages(out), now)  # B: stale, version 2
    assert b
    # A stages over it (B's entry names a version holding another commit) and stores version 3.
    assert await store.append(commit_id="c2", aggregate_id="s", version=3, events=[{"n": 2}], outgoing=out)
    with pytest.raises(ConcurrencyConflict):
        await store._commit(commit_key("s", 2), "c2", "s", 2, [{"n": 2}], _messages(out), now, staged=b)
    ready = await store.unpublished(100, now=now + timedelta(seconds=5))
    assert [e["commit_id"] for e in ready] == ["c2"] and ready[0]["commit"] == commit_key("s", 3)


async def test_a_stale_writer_never_replaces_the_entry_of_a_live_writer_at_a_later_version(store, published):
    """Writer A, up to date, has staged commit c1 at version 2 and is storing it; writer B, deciding the same commit on a
    stale stream, stages it at version 1. B found A's entry without its commit and replaced it, then lost version 1
    and deleted its own entry: A's commit landed with no entry (CI: a StageWarning recorded, never published, in
    tests/reliability/test_crash_timers_firing.py). B's version is taken, so B's staging conflicts and A's entry stays."""
    from xueji_kit.commit_documents import commit_key
    from xueji_kit.event_store import _messages

    assert await store.append(commit_id="c0", aggregate_id="s", version=1, events=[{"n": 0}], outgoing=[])
    out, now = published("s"), datetime.now(UTC)
    a = await store._stage("c1", commit_key("s", 2), "s", 2, _messages(out), now)

    async def stale_writer() -> None:
        b = await store._stage("c1", commit_key("s", 1), "s", 1, _messages(out), now)
        await store._commit(commit_key("s", 1), "c1", "s", 1, [{"n": 1}], _messages(out), now, staged=b)

    with pytest.raises(ConcurrencyConflict):
        await stale_writer()
    assert await store._commit(commit_key("s", 2), "c1", "s", 2, [{"n": 1}], _messages(out), now, staged=a)
    ready = await store.unpublished(100, now=now + timedelta(seconds=5))
    assert [e["commit_id"] for e in ready] == ["c1"] and ready[0]["commit"] == commit_key("s", 2)


async def test_a_writer_stalled_past_the_orphan_time_stages_its_dropped_entry_again(store, published):
    """A store stalled under load holds a writer between staging and storing its commit longer than the relay waits
    for an orphan: the relay drops the entry, then the commit lands. Its messages must still go out."""
    from xueji_kit.commit_documents import commit_key
    from xueji_kit.event_store import _messages

    out, now = published("s"), datetime.now(UTC)
    then = now - store.ORPHAN_AFTER - timedelta(seconds=5)
    staged = await store._stage("c1", commit_key("s", 1), "s", 1, _messages(out), then)
    assert await store.unpublished(100, now=now) == []
    assert await store.outbox.count_documents({}) == 0, "no commit after the orphan time: dropped"
    assert await store._commit(commit_key("s", 1), "c1", "s", 1, [{"n": 1}], _messages(out), then, staged=staged)
    ready = await store.unpublished(100, now=now + timedelta(seconds=5))
    assert [e["commit_id"] for e in ready] == ["c1"] and ready[0]["outgoing"]


async def test_a_stalled_writer_whose_commit_lands_as_the_relay_drops_its_entry_keeps_its_messages(store, published):
    """The relay takes an entry unconfirmed past ORPHAN_AFTER for an orphan's: it looks the commit up, finds none, and
    deletes the entry. A writer stalled that long whose commit lands between that lookup and that delete looks for its
    entry (`_still_staged`), finds it still there and does not stage it again; the delete then removed the only carrier
    of the commit's messages. The relay looks the commit up once more after dropping an entry, and puts it back."""
    from xueji_kit.commit_documents import commit_key
    from xueji_kit.event_store import _messages

    out, now = published("s"), datetime.now(UTC)
    then = now - store.ORPHAN_AFTER - timedelta(seconds=5)
    key, messages = commit_key("s", 1), _messages(out)
    staged = await store._stage("c1", key, "s", 1, messages, then)
    outbox = store.outbox

    class Outbox:
        def __getattr__(self, name):
            return getattr(outbox, name)

        async def delete_one(self, *a, **k):  # the relay's drop, the commit landing just before it
            store.outbox = outbox
            assert await store._commit(key, "c1", "s", 1, [{"n": 1}], messages, then, staged=staged)
            return await outbox.delete_one(*a, **k)

    store.outbox = Outbox()
    try:
        dropping = await store.unpublished(100, now=now)
    finally:
        store.outbox = outbox
    ready = dropping or await store.unpublished(100, now=now + timedelta(seconds=5))
    assert [e["commit_id"] for e in ready] == ["c1"] and ready[0]["outgoing"]


async def _staging_while(store, meanwhile, *args):
    """Writer B's `_stage(*args)`, with `meanwhile` (other writers at work) run while B is staging: right after B
    removes an entry from the outbox to put its own in its place, if it does, else right after B has staged."""
    outbox, ran = store.outbox, []

    class Outbox:
        def __getattr__(self, name):
            return getattr(outbox, name)

        async def delete_one(self, *a, **k):
            result = await outbox.delete_one(*a, **k)
            if not ran:
                store.outbox = outbox
                ran.append(await meanwhile())
            return result

    store.outbox = Outbox()
    try:
        b = await store._stage(*args)
    finally:
        store.outbox = outbox
    if not ran:
        await meanwhile()
    return b


async def test_three_writers_of_one_commit_leave_its_messages_for_the_relay(store, published):
    """Three writers of one commit at one version (the scheduler firing a timer, a settle firing it inline, the relay's
    follower settling the commit before it): A stages it and is storing it; B, staging, finds A's entry without its
    commit; C stages while B does; A's commit lands; then B and C find the commit stored. Its messages must still be
    in the outbox, once. They were lost: B removed A's entry to put its own in its place, found C's there (C's insert
    went in at once, into the gap) with the commit now stored and stopped; C, its entry staged at the first try, took
    the stored commit for one whose entry was published long ago and deleted its own entry (CI: a StageBreached
    recorded, never published, in tests/reliability/test_crash_timers_firing.py)."""
    from xueji_kit.commit_documents import commit_key
    from xueji_kit.event_store import _messages

    out, now = published("s"), datetime.now(UTC)
    key, messages = commit_key("s", 1), _messages(out)
    a = await store._stage("c1", key, "s", 1, messages, now)
    c = []

    async def c_stages_and_a_stores() -> None:
        c.append(await store._stage("c1", key, "s", 1, messages, now))
        assert await store._commit(key, "c1", "s", 1, [{"n": 1}], messages, now, staged=a)

    b = await _staging_while(store, c_stages_and_a_stores, "c1", key, "s", 1, messages, now)
    for staged in (b, *c):
        if staged is not None:
            assert not await store._commit(key, "c1", "s", 1, [{"n": 1}], messages, now, staged=staged)
    ready = await store.unpublished(100, now=now + timedelta(seconds=5))
    assert [e["commit_id"] for e in ready] == ["c1"] and ready[0]["outgoing"]
    await store.delete_published([e["_id"] for e in ready])
    assert await store.unpublished(100, now=now + timedelta(seconds=5)) == []


async def test_a_second_writer_of_a_commit_never_puts_its_messages_behind_the_next_versions(store, published):
    """The local store's relay reads the outbox in insertion order, a batch at a time, and relies on a commit's entry
    going in before the next version's. Writer B of commit c1 (version 1) finds writer A's entry without its commit;
    A's commit lands and the next decision (c2, version 2) is stored with its entry; only then does B's staging
    finish. A read of one entry must still give version 1 first (B's entry, put in A's place, went in after version
    2's, which then left first)."""
    from xueji_kit.commit_documents import commit_key
    from xueji_kit.event_store import _messages

    out, now = published("s"), datetime.now(UTC)
    key, messages = commit_key("s", 1), _messages(out)
    a = await store._stage("c1", key, "s", 1, messages, now)

    async def a_stores_and_the_next_decision_follows() -> None:
        assert await store._commit(key, "c1", "s", 1, [{"n": 1}], messages, now, staged=a)
        assert await store.append(commit_id="c2", aggregate_id="s", version=2, events=[{"n": 2}], outgoing=out)

    b = await _staging_while(store, a_stores_and_the_next_decision_follows, "c1", key, "s", 1, messages, now)
    if b is not None:
        assert not await store._commit(key, "c1", "s", 1, [{"n": 1}], messages, now, staged=b)
    later = now + timedelta(seconds=5)
    sent = []
    while ready := await store.unpublished(1, now=later):
        sent += [e["version"] for e in ready]
        await store.delete_published([e["_id"] for e in ready])
    assert sent == [1, 2]


async def test_two_streams_with_the_same_commit_id_both_wait_for_the_relay(store, published):
    """Commit ids are unique per stream ("opened" for every school's roster); neither may swallow the other."""
    assert await store.append(
        commit_id="opened", aggregate_id="x", version=1, events=[{"n": 1}], outgoing=published("x")
    )
    assert await store.append(
        commit_id="opened", aggregate_id="y", version=1, events=[{"n": 1}], outgoing=published("y")
    )
    assert len(await store.load("y")) == 1
    ready = await store.unpublished(100)
    assert sorted(e["aggregate_id"] for e in ready) == ["x", "y"]


async def test_start_many_stores_first_commits_in_bulk_and_a_rerun_stores_nothing_twice(store, published):
    from xueji_kit.event_store import NewStream

    def stream(n: int, commit: str = "requested") -> NewStream:
        return NewStream(commit, f"m{n}", [{"n": n}], published(f"m{n}"))

    assert await store.append(commit_id="other", aggregate_id="m3", version=1, events=[{"n": -3}], outgoing=[])
    with pytest.raises(ConcurrencyConflict):  # m3 already began with another commit: reported, not overwritten
        await store.start_many([stream(n) for n in range(5)])
    assert [c["events"] for c in await store.load("m3")] == [[{"n": -3}]]
    assert [c["events"] for c in await store.load("m4")] == [[{"n": 4}]]  # the others were stored in bulk
    assert await store.start_many([stream(n) for n in (0, 1, 2, 4)]) == [False] * 4  # a re-import: nothing twice
    assert await store.start_many([stream(n) for n in (5, 6)]) == [True, True]
    ready = await store.unpublished(100)
    keys = sorted(m["key"] for e in ready for m in e["outgoing"])
    assert keys == ["m0", "m1", "m2", "m4", "m5", "m6"]  # each stored stream's messages once, m3's none
    assert all(e["confirmed"] for e in ready)
    assert len(ready) == 3, "one outbox entry per bulk write (the first one's m3 went alone and lost)"
    await store.delete_published([e["_id"] for e in ready])
    assert await store.unpublished(100) == []


async def test_start_many_or_read_gives_the_first_commit_of_each_stream_begun_before_and_publishes_it_once(
    store, published
):
    """A class sheet uploaded again, corrected: the caller gets what each row's stream began with, to compare."""

    def stream(n: int, said: int, commit: str = "requested") -> NewStream:
        return NewStream(commit, f"r{n}", [{"n": said}], published(f"r{n}"))

    assert await store.start_many_or_read([stream(0, 0), stream(1, 1)]) == [None, None]
    again = await store.start_many_or_read([stream(0, 0), stream(1, 10), stream(2, 2)])
    assert [None if c is None else c["events"] for c in again] == [[{"n": 0}], [{"n": 1}], None]
    assert [c["events"] for c in await store.load("r1")] == [[{"n": 1}]]  # as first asked: nothing overwritten
    found = await store.commits_at([("r1", 1), ("r1", 2), ("r9", 1)])  # by `_id`, in the order asked
    assert [None if c is None else c["events"] for c in found] == [[{"n": 1}], None, None]
    with pytest.raises(ConcurrencyConflict):  # begun by another commit: reported, as start_many does
        await store.start_many_or_read([stream(0, 0, commit="other")])
    ready = await store.unpublished(100)
    assert sorted(m["key"] for e in ready for m in e["outgoing"]) == ["r0", "r1", "r2"]  # each stream's once


async def test_a_bulk_writer_that_stopped_before_confirming_is_published_from_its_commits_only(store, published):
    """The batch entry names its commits; after ORPHAN_AFTER the relay publishes the streams whose commit names the
    batch (stored by that writer), not those stored before by another, and drops a batch none of whose commits came."""
    from datetime import timedelta

    from xueji_kit.event_store import NewStream

    assert await store.append(commit_id="requested", aggregate_id="k1", version=1, events=[{"n": 1}], outgoing=[])
    await store.start_many([NewStream("requested", f"k{n}", [{"n": n}], published(f"k{n}")) for n in (0, 1, 2)])
    batch = await store.outbox.find_one({"aggregate_id": ""})
    await store.confirmations.delete_one({"_id": batch["_id"]})  # as if the writer stopped before confirming
    await store.collection.delete_one({"_id": "k2@0000000001"})  # ... and before its last commit
    assert await store.unpublished(100) == [], "young: its writer may still be at work"
    later = datetime.now(UTC) + timedelta(minutes=5)
    ready = await store.unpublished(100, now=later)
    assert [m["key"] for e in ready for m in e["outgoing"]] == ["k0"]


async def test_a_bulk_entry_stores_its_messages_as_one_compressed_value_not_as_documents(store, published):
    """The local store converts every field of a document it writes, reads or deletes (0.2-0.3 ms of its CPU per KB
    of nested fields): a class's bulk entry as documents (500 messages, ~360 KB) cost it ~120 ms each of the three
    times, as one compressed binary value ~5 ms. What the relay reads back is the same."""
    import bson

    from xueji_kit.event_store import NewStream

    streams = [NewStream("c", f"s{n}", [{"n": n}], published(f"s{n}") * 2) for n in range(50)]
    await store.start_many(streams)
    raw = await store.outbox.find_one({"aggregate_id": ""})
    nested = [k for k, v in raw.items() if isinstance(v, dict | list)]
    assert nested == [], f"message-laden fields stored as documents: {nested}"
    sent = [m for s in streams for m in store_messages(s.outgoing)]
    assert len(bson.encode(raw)) < len(bson.encode({"m": sent})) / 3
    ready = await store.unpublished(1000)
    assert [m for e in ready for m in e["outgoing"]] == sent
    assert [k for e in ready for k in e["committed"]] == [f"s{n}@0000000001" for n in range(50)]


async def test_the_relay_of_the_process_that_wrote_a_bulk_entry_publishes_it_without_reading_its_messages_back(
    store, published
):
    """A bulk entry waits while its writer stores the commits, and the relay reads the head of the outbox on every
    nudge meanwhile: reading its packed messages each time cost the local store ~5 ms and the relay a decompression
    (5% of the registry's CPU in a 10,000-student import). The writer's process keeps them until published."""
    from bson import Binary

    from xueji_kit.event_store import NewStream

    store.relayed_here = True
    streams = [NewStream("c", f"s{n}", [{"n": n}], published(f"s{n}")) for n in range(5)]
    await store.start_many(streams)
    await store.outbox.update_one({"aggregate_id": ""}, {"$set": {"packed": Binary(b"not read")}})
    ready = await store.unpublished(100)
    kept = [m | {"message": json.loads(m["message"].body)} for e in ready for m in e["outgoing"]]  # serialized once
    assert kept == [m for s in streams for m in store_messages(s.outgoing)]


def store_messages(outgoing):
    return [{"topic": o.topic, "key": o.key, "message": o.message.model_dump(mode="json")} for o in outgoing]


async def test_the_relay_reads_about_its_batch_size_in_messages_not_in_entries(store, published):
    from xueji_kit.event_store import NewStream

    for batch in range(3):  # three bulk writes of three streams: one outbox entry each, three messages each
        await store.start_many(
            [NewStream("c", f"b{batch}-{n}", [{"n": n}], published(f"b{batch}-{n}")) for n in range(3)]
        )
    first = await store.unpublished(4)
    assert [len(e["outgoing"]) for e in first] == [3, 3], "stops once 4 messages are read, not after 4 entries"
    await store.delete_published([e["_id"] for e in first])
    assert [len(e["outgoing"]) for e in await store.unpublished(4)] == [3]


async def test_the_relay_has_the_store_send_no_more_of_the_outbox_than_it_publishes(isolation, published):
    """A bulk import stages one outbox entry per class (hundreds of messages, hundreds of KB) faster than the relay
    publishes them. Each relay read takes about its batch size in messages, so one such entry; the store must not
    send (and, on the local store, decode) the whole waiting outbox with it, or every read costs as much as the
    backlog and a large import slows down as it goes (20,000 students ran at a tenth of the rate of 2,000)."""
    from xueji_kit import store_commands
    from xueji_kit.event_store import NewStream

    store_commands.install()  # before the client is made: it reports its commands
    client = connect(isolation.servers.mongodb)
    store = EventStore(client[f"{isolation.database}_outbox_reads"])
    for batch in range(12):  # twelve classes waiting, 20 messages each
        await store.start_many([NewStream("c", f"class{batch}", [{"n": batch}], published(f"class{batch}") * 20)])
    with store_commands.counting(store.outbox.database.name) as log:
        first = await store.unpublished(20)
    assert [len(e["outgoing"]) for e in first] == [20]
    sent = sum(n for key, n in log.returned.items() if key.startswith("find events_outbox "))
    assert sent <= 2, f"the store sent {sent} outbox entries to publish one"
    await store.delete_published([e["_id"] for e in first])
    rest = await store.unpublished(250)  # a read sized one entry at first still takes all it may
    assert [len(e["outgoing"]) for e in rest] == [20] * 11
    await client.close()


async def test_published_entries_are_deleted_by_id_without_a_scan_of_the_outbox(isolation, published):
    """FerretDB 1.x serves `_id` equality from its index and reads (decodes) the whole collection for any other
    filter, `$in` on `_id` included: a delete of the published entries by `$in` cost as much as the backlog of bulk
    entries waiting behind them on every relay turn (half the registry's store time in a 10,000-student import)."""
    from xueji_kit import store_commands
    from xueji_kit.event_store import NewStream

    store_commands.install()
    client = connect(isolation.servers.mongodb)
    store = EventStore(client[f"{isolation.database}_outbox_deletes"])
    for batch in range(3):
        await store.start_many([NewStream("c", f"class{batch}", [{"n": batch}], published(f"class{batch}"))])
    await store.append(commit_id="one", aggregate_id="single", version=1, events=[{}], outgoing=published("single"))
    ready = await store.unpublished(100)
    assert len(ready) == 4
    with store_commands.counting(store.outbox.database.name) as log:
        await store.delete_published([e["_id"] for e in ready])
    assert store_commands.scans(log.commands) == []
    assert await store.outbox.count_documents({}) == 0
    assert await store.confirmations.count_documents({}) == 0
    await client.close()


async def test_a_commits_messages_are_stored_once_in_its_outbox_entry_not_again_in_the_commit(store, published):
    """The events are the history (R12); the messages derived from them wait in the outbox until published. A second
    copy in each commit made inserting a bulk import's commits 3-4 times dearer on the local store."""
    from xueji_kit.event_store import NewStream

    await store.append(commit_id="one", aggregate_id="single", version=1, events=[{"n": 1}], outgoing=published("a"))
    await store.start_many([NewStream("c", f"class-{n}", [{"n": n}], published(f"s{n}")) for n in range(3)])
    commits = [await store.first(a) for a in ("single", "class-0", "class-1", "class-2")]
    assert all(c is not None and "outgoing" not in c and c["events"] for c in commits)
    ready = await store.unpublished(100)
    assert sorted(m["key"] for e in ready for m in e["outgoing"]) == ["a", "s0", "s1", "s2"]


async def test_a_bulk_write_waits_while_this_processs_relay_has_a_backlog_of_them(store, published):
    """A province's classes uploaded in a minute would otherwise all wait in the outbox, and every relay turn on the
    local store reads every waiting entry (hundreds of messages each) to find one by `_id`."""
    from xueji_kit.event_store import NewStream

    store.relayed_here = True
    store.BACKLOG_PATIENCE = 120.0
    for n in range(store.BULK_BACKLOG):
        await store.start_many([NewStream("c", f"class-{n}", [{"n": n}], published(f"s{n}"))])
    late = asyncio.create_task(store.start_many([NewStream("c", "late", [{"n": 9}], published("late"))]))
    done, _ = await asyncio.wait({late}, timeout=5)
    assert not done, "a bulk write past the backlog waits for the relay"
    assert await store.first("late") is None
    first = await store.unpublished(1)
    await store.delete_published([e["_id"] for e in first])  # the relay published one class
    assert await asyncio.wait_for(late, 60) == [True]
    assert await store.first("late") is not None


async def test_a_cached_stream_is_decided_on_without_reading_and_a_stale_one_reloads_on_conflict(isolation):
    from xueji_kit import store_commands

    store_commands.install()  # before the clients are made: they report their commands
    cache = StreamCache()
    clients = [connect(isolation.servers.mongodb) for _ in range(2)]
    with store_commands.counting(f"{isolation.database}_events") as log:
        store, other = (EventStore(c[f"{isolation.database}_events"]) for c in clients)

        def seen(history):
            return Decision([{"seen": len(history)}])

        assert (await decide_and_save(store, "s", "c1", seen, cache=cache, new=True)).stored
        assert (await decide_and_save(store, "s", "c2", seen, cache=cache)).stored
        assert [c.kind for c in log.commands] == ["insert", "insert"]  # nothing read: the stream was cached
        await decide_and_save(other, "s", "c3", seen)  # another replica moves the stream on
        log.clear()
        saved = await decide_and_save(store, "s", "c4", seen, cache=cache)
        assert (saved.version, saved.stored) == (4, True)
        assert [e["seen"] for c in await store.load("s") for e in c["events"]] == [0, 1, 2, 3]
        assert "find" in [c.kind for c in log.commands]  # the conflict reloaded it
        # A redelivered cause is recognised from the cache, and one stored by the other replica through the conflict.
        assert not (await decide_and_save(store, "s", "c2", seen, cache=cache)).stored
        await decide_and_save(other, "s", "c5", seen)
        assert not (await decide_and_save(store, "s", "c5", seen, cache=cache)).stored
        assert len(await store.load("s")) == 5
        # A "new" stream that exists already conflicts on its first commit and is then decided on as stored.
        assert not (await decide_and_save(store, "s", "c1", seen, cache=StreamCache(), new=True)).stored
        assert (await decide_and_save(store, "s", "c6", seen, cache=StreamCache(), new=True)).version == 6
    for client in clients:
        await client.close()


async def test_a_commit_stored_while_this_process_relays_is_confirmed_in_memory_else_in_the_store(store, published):
    store.relayed_here = True
    await store.append(commit_id="m1", aggregate_id="mem", version=1, events=[{"n": 1}], outgoing=published("mem"))
    assert await store.confirmations.count_documents({}) == 0
    assert [e["commit_id"] for e in await store.unpublished(10)] == ["m1"]  # ready at once, its writer told
    store.relayed_here = False  # the lease went elsewhere: that relay looks the commit up
    await store.append(commit_id="s1", aggregate_id="sto", version=1, events=[{"n": 1}], outgoing=published("sto"))
    assert await store.confirmations.count_documents({}) == 1
    ready = await store.unpublished(10)
    assert sorted(e["commit_id"] for e in ready) == ["m1", "s1"]
    await store.delete_published([e["_id"] for e in ready])
    assert await store.outbox.count_documents({}) == 0
    assert await store.confirmations.count_documents({}) == 0
    assert not store.stored_here


async def test_the_local_store_reads_the_outbox_in_natural_order_and_keeps_no_sort_index(store):
    """FerretDB would sort the whole outbox in memory on every relay run: there the read is unsorted."""
    assert store.outbox_order is None
    assert "relay_order" not in await store.outbox.index_information()


async def test_with_the_stated_order_an_aggregates_later_version_never_leaves_before_an_earlier_one(store):
    """The order MongoDB reads by (OUTBOX_ORDER) holds even when the store's natural order is not insertion order,
    which the unsorted read relies on; here the entries are written out of order to show the difference."""
    from xueji_kit.outbox_entries import OUTBOX_ORDER

    def entry(aggregate: str, version: int) -> dict[str, object]:
        return {"_id": f"{aggregate}#{version}", "commit": f"{aggregate}@{version}", "aggregate_id": aggregate,
                "version": version, "outgoing": [{"n": version}],
                "confirmed": True, "staged_at": datetime.now(UTC)}  # fmt: skip

    await store.outbox.insert_many([entry("z", 1), entry("a", 2), entry("a", 1)])
    unsorted = [(e["aggregate_id"], e["version"]) for e in await store.unpublished(2)]
    assert ("a", 2) in unsorted and ("a", 1) not in unsorted, "natural order: version 2 would leave first"
    store.outbox_order = OUTBOX_ORDER
    assert [(e["aggregate_id"], e["version"]) for e in await store.unpublished(2)] == [("a", 1), ("a", 2)]


async def test_a_commits_events_are_stored_as_one_value_and_read_back_as_events_also_from_before(store, published):
    """The local store pays per nested field of every document it writes: a commit's events are one compressed
    value. Every reader gets them as `events`; a commit stored before packing (events as documents) reads the same."""
    await store.append(commit_id="c1", aggregate_id="p", version=1, events=[{"n": 1, "at": "2026-09-01"}], outgoing=[])
    await store.start_many([NewStream("c1", "q", [{"n": 7}], published("q"))])
    await store.collection.insert_one({"_id": "p@0000000002", "commit_id": "c2", "aggregate_id": "p", "version": 2,
                                       "events": [{"n": 2}], "recorded_at": datetime.now(UTC)})  # fmt: skip
    await store.collection.insert_one(
        {
            "_id": "p@0000000003",
            "commit_id": "c3",
            "aggregate_id": "p",
            "version": 3,
            "events_packed": Binary(zlib.compress(b'[{"n":3}]')),
            "recorded_at": datetime.now(UTC),
        }
    )  # fmt: skip  (compressed, as for a while)
    raw = await store.collection.find_one({"_id": "p@0000000001"})
    # The events' JSON as it is (a kilobyte or two: compressing cost more CPU than the store saved).
    assert "events" not in raw and json.loads(raw["events_packed"]) == [{"n": 1, "at": "2026-09-01"}]
    assert "events" not in await store.collection.find_one({"_id": "q@0000000001"})
    assert [c["events"] for c in await store.load("p")] == [[{"n": 1, "at": "2026-09-01"}], [{"n": 2}], [{"n": 3}]]
    assert (await store.first("q"))["events"] == [{"n": 7}]
    scanned = {(c["aggregate_id"], c["version"]): c["events"] async for c in store.every_commit()}
    assert scanned == {("p", 1): [{"n": 1, "at": "2026-09-01"}], ("p", 2): [{"n": 2}], ("p", 3): [{"n": 3}],
                       ("q", 1): [{"n": 7}]}  # fmt: skip
    assert [c["aggregate_id"] async for c in store.every_commit({"aggregate_id": "q"})] == ["q"]


def _held_commits(monkeypatch: pytest.MonkeyPatch, events: str) -> tuple[asyncio.Event, asyncio.Event]:
    """A bulk writer's commits held until `release` is set (a store stalled under load); `staged` is set once its
    outbox entry is written and the commits wait."""
    from xueji_kit import event_store as store_module

    staged, release = asyncio.Event(), asyncio.Event()
    insert = store_module.insert_many_once

    async def held(collection, docs):
        if collection.name == events:
            staged.set()
            await release.wait()
        return await insert(collection, docs)

    monkeypatch.setattr(store_module, "insert_many_once", held)
    return staged, release


async def test_a_bulk_entry_of_commits_decided_long_ago_is_not_taken_for_an_orphans_by_another_relay(
    database, published, monkeypatch
):
    """Commits stored behind their batch and tried again through a store outage are written minutes after they were
    decided: their entry is staged at the time it is written, so another replica's relay leaves it to its writer."""
    writer, relay = EventStore(database), EventStore(database)  # two replicas; the second one relays
    await writer.ensure_indexes()
    staged, release = _held_commits(monkeypatch, writer.collection.name)
    decided = datetime.now(UTC) - timedelta(minutes=2)
    streams = [NewStream(f"c{n}", f"late-{n}", [{"n": n}], published(f"late-{n}")) for n in range(3)]
    writing = asyncio.create_task(writer.start_many(streams, decided))
    await asyncio.wait_for(staged.wait(), 30)

    ready = await relay.unpublished(100)
    await relay.delete_published([e["_id"] for e in ready])
    assert ready == [], "its writer is at work: nothing to publish, nothing dropped"
    release.set()
    assert await asyncio.wait_for(writing, 30) == [True] * 3
    published_now = await relay.unpublished(100)
    assert sorted(m["key"] for e in published_now for m in e["outgoing"]) == ["late-0", "late-1", "late-2"]


async def test_a_bulk_writer_slower_than_the_orphan_wait_has_its_records_published_all_the_same(
    database, published, monkeypatch
):
    """A store stalled for longer than ORPHAN_AFTER between a batch entry and its commits: another replica's relay
    takes the entry for an orphan's and drops it, publishing nothing (no commit there yet). The writer, seeing its
    entry gone once its commits are stored, stages it again, confirmed: every record's messages are published."""
    monkeypatch.setattr(EventStore, "ORPHAN_AFTER", timedelta(seconds=0.5))
    writer, relay = EventStore(database), EventStore(database)
    await writer.ensure_indexes()
    staged, release = _held_commits(monkeypatch, writer.collection.name)
    streams = [NewStream(f"c{n}", f"slow-{n}", [{"n": n}], published(f"slow-{n}")) for n in range(3)]
    writing = asyncio.create_task(writer.start_many(streams))
    await asyncio.wait_for(staged.wait(), 30)
    await asyncio.sleep(0.6)

    dropped = await relay.unpublished(100)
    assert [e["outgoing"] for e in dropped] == [[]], "taken for an orphan's: no commit names it yet"
    await relay.delete_published([e["_id"] for e in dropped])
    release.set()
    assert await asyncio.wait_for(writing, 30) == [True] * 3
    ready = await relay.unpublished(100)
    assert sorted(m["key"] for e in ready for m in e["outgoing"]) == ["slow-0", "slow-1", "slow-2"]


def _ids(entries: list[dict]) -> list[str]:
    """The message ids a relay's entries would publish (single entries' and bulk entries' alike)."""
    found = []
    for entry in entries:
        for out in entry["outgoing"]:
            message = out["message"]
            message = json.loads(message.body) if hasattr(message, "body") else message
            found.append(str(message["message_id"]))
    return found


@pytest.mark.parametrize("winner", ["start_many", "append"])
async def test_a_losing_writer_of_a_stored_commit_never_has_its_own_messages_published(database, published, winner):
    """A cause redelivered (a check or a verdict consumed again after a rebalance, or published twice) is decided again:
    the same commit id, but messages enveloped afresh, under new message ids. Its writer stages them, finds the commit
    stored and deletes its entry. Another replica's relay that read the outbox in between (its writer staged at the
    time it decided, seconds before, so past WRITER_AT_WORK) found the commit stored under that commit id and published
    the loser's messages too: dedupe's answer to a check went out twice under two message ids, and the registry
    took the second for another verdict of the same request (`record_begun_otherwise`, two registry replicas). Only
    the entry of the writer that stored the commit is published."""
    writer, relay = EventStore(database), EventStore(database)  # two replicas; the second one relays
    await writer.ensure_indexes()
    first = published("s")
    if winner == "start_many":
        assert await writer.start_many([NewStream("c1", "s", [{"n": 1}], first)]) == [True]
    else:
        assert await writer.append(commit_id="c1", aggregate_id="s", version=1, events=[{"n": 1}], outgoing=first)
    sent = await relay.unpublished(100)
    assert _ids(sent) == [str(first[0].message.message_id)]
    await relay.delete_published([e["_id"] for e in sent])

    read: list[list[dict]] = []
    commit = writer._commit

    async def relay_reads_meanwhile(*args, **kwargs):  # between the loser's staging and its delete
        read.append(await relay._waiting(100))
        return await commit(*args, **kwargs)

    writer._commit = relay_reads_meanwhile  # type: ignore[method-assign]
    decided = datetime.now(UTC) - timedelta(seconds=5)
    again = published("s")  # the same commit decided again: its messages made afresh
    assert await writer.start_many([NewStream("c1", "s", [{"n": 1}], again)], decided) == [False]
    assert read and any(e.get("commit_id") == "c1" for e in read[0]), "the relay read the loser's entry"

    async def as_read(limit: int) -> list[dict]:
        return read[0]

    relay._waiting = as_read  # type: ignore[method-assign]
    late = await relay.unpublished(100)
    assert str(again[0].message.message_id) not in _ids(late), "the loser's messages published"
    assert _ids(late) == []


async def test_the_entry_of_a_writer_that_lost_a_stored_commit_and_stopped_is_dropped_and_holds_nothing_up(
    store, published
):
    """A writer that stopped between staging a commit stored by another writer and deleting its entry leaves it. Its
    messages are not the commit's (made afresh when its cause was decided again): dropped, never published, and the
    stream's next version is published at once behind it (it used to be published once more, under its own ids)."""
    from xueji_kit.commit_documents import commit_key
    from xueji_kit.event_store import _messages

    first, now = published("s"), datetime.now(UTC)
    assert await store.append(commit_id="c1", aggregate_id="s", version=1, events=[{"n": 1}], outgoing=first)
    await store.delete_published([e["_id"] for e in await store.unpublished(100)])
    loser = await store._stage("c1", commit_key("s", 1), "s", 1, _messages(published("s")), now)  # then stopped
    following = published("s")
    assert await store.append(commit_id="c2", aggregate_id="s", version=2, events=[{"n": 2}], outgoing=following)
    ready = await store.unpublished(100, now=now + timedelta(seconds=5))
    assert _ids(ready) == [str(following[0].message.message_id)]
    assert await store.outbox.find_one({"_id": loser.entry}) is None
