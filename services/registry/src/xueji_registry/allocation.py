"""Gapless sequence allocation without transactions: the insert a unique `_id` refuses is the only lock.

A number is the document `{scope}#{n}`; numbers are taken in order, so 1..top all exist and the top is found by
`_id` lookups (galloping from the last top this process saw, then bisecting): no scan of the scope, which on the
local store's SQLite backend would read every allocation ever made. Each holder's claim `{scope}@{holder}` records
its number, so a retried or redelivered allocation reuses it (no gap); a claim left without a number by a crash
between the two writes is repaired by looking for the holder's number (the one slow query, and only then).

A claim found already made may also be another replica's at work on the same holder right now: a consumer that lost
its partitions in a rebalance finishes the batch it holds while the new owner is handed the same messages (a
"zombie"). A claim carries when it was made; one younger than `CLAIMED_AT_WORK` is waited for (its holder's number
looked up again, `CLAIM_POLL` apart) instead of taking a second number for the holder, which would leave one of the
two unused: a gap in the series (R07, "no broken codes"). Only a claim older than that, whose writer stopped between
claim and number, gets a number here.

A scope may start above a floor (`{scope}!floor`, read by `_id` once per process and scope): the numbers up to it
were given before the scope existed (R07's and R08's series scopes over the per-school numbers of an earlier version,
R08's over the certificate numbers records hold however given: `start_above_once`), so its first number is the
floor + 1.

Numbers that must be unique but may skip (R03 L and J counters) are taken in blocks (`take_many`): a process wins
block k of a scope (`{scope}!blocks#{k}`, found and won like a number) and gives its numbers out itself, one document
per block instead of one per number; what is left of a block when the process stops is never given.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from xueji_kit.store import Document, insert_many_once, insert_once, query_index

BLOCK = 1_000  # numbers in a block of `take_many`
# A claim younger than this is another writer's at work (its number follows within milliseconds; a store stalled under
# load, seconds); its clock may run a little apart from this one's.
CLAIMED_AT_WORK = timedelta(seconds=10)
CLAIM_POLL = 0.1  # seconds between looks for the number of a claim at work (doubling, at most 1 s)


@dataclass
class _Block:
    next: int
    last: int


class Sequences:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db["allocations"]
        self._top: dict[str, int] = {}  # scope -> a number known to be taken (a hint: others may have taken more)
        self._blocks: dict[str, _Block] = {}  # scope -> what is left of the block this process holds
        self._taking: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)  # one block won at a time

    async def ensure_indexes(self) -> None:
        await query_index(self.collection, [("scope", ASCENDING), ("holder", ASCENDING)], name="scope_holder")

    async def allocate(self, scope: str, holder: str) -> int:
        """The number `holder` got in `scope`, or the next free one (1, 2, ...) won by a unique insert."""
        claim = f"{scope}@{holder}"
        mine = await self.collection.find_one({"_id": claim})
        if mine is not None and mine.get("seq") is not None:
            return int(mine["seq"])
        if mine is None and await insert_once(self.collection, _claim(scope, holder)):
            return await self._record(claim, scope, await self.next_unique(scope, holder))
        # Claimed before: the number may have been won just before a crash, or another writer is at work on it.
        won = (await self._numbers_of_claimed(scope, [holder])).get(holder)
        if won is not None:
            return await self._record(claim, scope, won)
        return await self._record(claim, scope, await self.next_unique(scope, holder))

    async def allocate_many(self, scope: str, holders: list[str]) -> list[int]:
        """`allocate` for many holders of one scope: `allocate_across` of that scope."""
        return (await self.allocate_across({scope: holders}))[scope]

    async def allocate_across(self, asked: dict[str, list[str]]) -> dict[str, list[int]]:
        """`allocate` for many holders of several scopes (a batch of verdicts spans schools) in two inserts: every
        claim, then every number. The numbers are not written back on the claims (on the local store a many-statement
        update can hang), so a holder whose claim was there before (a redelivery) has its number looked up by holder:
        one query per scope, the slow one, and only after a failure. A holder named more than once (a message
        delivered twice in one batch) gets one number, given back for each time it is named."""
        holders = [(scope, h) for scope, named in asked.items() for h in dict.fromkeys(named)]
        claims = [_claim(scope, h) for scope, h in holders]
        numbers: dict[tuple[str, str], int] = {}
        before: dict[str, list[str]] = {}
        for i in await insert_many_once(self.collection, claims):
            before.setdefault(holders[i][0], []).append(holders[i][1])
        for scope, claimed in before.items():
            found = await self._numbers_of_claimed(scope, claimed)
            numbers |= {(scope, holder): seq for holder, seq in found.items()}
        numbers |= await self._next_across([h for h in holders if h not in numbers])
        return {scope: [numbers[(scope, h)] for h in named] for scope, named in asked.items()}

    async def _numbers_of_claimed(self, scope: str, holders: list[str]) -> dict[str, int]:
        """The numbers won for `holders`, whose claims were made before: looked up by holder (the slow query), and
        again while a claim without a number is younger than CLAIMED_AT_WORK (its writer at work: a zombie consumer
        after a rebalance). A holder left out gets a number of its own: its claim's writer stopped before winning one.
        A claim from before claims were dated counts as old."""
        numbers: dict[str, int] = {}
        wait = CLAIM_POLL
        while True:
            missing = [h for h in holders if h not in numbers]
            async for won in self.collection.find({"scope": scope, "holder": {"$in": missing}}):
                numbers[won["holder"]] = int(won["seq"])
            missing = [h for h in missing if h not in numbers]
            if not missing:
                return numbers
            ids = [f"{scope}@{h}" for h in missing]
            now = datetime.now(UTC)
            at_work = [
                c["_id"]
                async for c in self.collection.find({"_id": {"$in": ids}}, {"claimed_at": 1})
                if isinstance(c.get("claimed_at"), datetime) and now - _aware(c["claimed_at"]) < CLAIMED_AT_WORK
            ]
            if not at_work:
                return numbers
            await asyncio.sleep(wait)
            wait = min(2 * wait, 1.0)

    async def next_unique_many(self, scope: str, holders: list[str]) -> list[int]:
        """The next free numbers of `scope` for `holders`, in one insert (`_next_across`), without claims."""
        numbers = await self._next_across([(scope, h) for h in holders])
        return [numbers[(scope, h)] for h in holders]

    async def _next_across(self, holders: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """The next free numbers of each (scope, holder)'s scope, in one insert for all scopes. A scope's numbers start
        above the top this process knows, looked up (`top`) only when it knows none, or when another writer took some
        of the numbers tried: those are taken again above them. Gapless either way, since a known top is taken and the
        numbers tried follow it."""
        numbers: dict[tuple[str, str], int] = {}
        left, stale = holders, {scope for scope, _ in holders if scope not in self._top}
        while left:
            await asyncio.gather(*(self.top(scope) for scope in stale))
            tried: list[tuple[tuple[str, str], int]] = []
            last = {scope: self._top[scope] for scope, _ in left}
            for holder in left:
                last[holder[0]] += 1
                tried.append((holder, last[holder[0]]))
            docs = [{"_id": f"{scope}#{seq}", "scope": scope, "seq": seq, "holder": h} for (scope, h), seq in tried]
            lost = await insert_many_once(self.collection, docs)
            numbers |= {holder: seq for i, (holder, seq) in enumerate(tried) if i not in lost}
            for scope, seq in last.items():
                self._top[scope] = max(self._top[scope], seq)  # all taken, by us or another
            left = [holder for i, (holder, _) in enumerate(tried) if i in lost]
            stale = {scope for scope, _ in left}
        return numbers

    async def take_many(self, scope: str, count: int, *, first: int = 1) -> list[int]:
        """`count` numbers of `scope` no one else gets, from blocks of `BLOCK` (block k: `first + (k-1) * BLOCK` to
        `first + k * BLOCK - 1`) that this process wins by one insert each: unique across processes, in order within
        one, not gapless (a block's rest is skipped when the process stops). A scope whose numbers were taken one by
        one before (`next_unique`) is given blocks from a `first` above them. Batches side by side in one process
        take from the same block in turn."""
        numbers: list[int] = []
        async with self._taking[scope]:
            while len(numbers) < count:
                block = self._blocks.get(scope)
                if block is None or block.next > block.last:
                    block = self._blocks[scope] = await self._win_block(scope, first)
                taken = min(count - len(numbers), block.last - block.next + 1)
                numbers += range(block.next, block.next + taken)
                block.next += taken
        return numbers

    async def _win_block(self, scope: str, first: int) -> _Block:
        blocks = f"{scope}!blocks"
        k = await self.top(blocks) + 1
        while not await insert_once(self.collection, {"_id": f"{blocks}#{k}", "scope": blocks, "seq": k}):
            k += 1  # another process won it
        self._top[blocks] = max(self._top.get(blocks, 0), k)
        start = first + (k - 1) * BLOCK
        return _Block(start, start + BLOCK - 1)

    async def next_unique(self, scope: str, holder: str) -> int:
        """A number of `scope` no one else gets, without the claim that makes `allocate` gapless (the number of a
        holder whose claim is in), two round trips. A redelivered
        request may take a second number; the first then stays unused."""
        seq = await self.top(scope) + 1
        while not await insert_once(
            self.collection, {"_id": f"{scope}#{seq}", "scope": scope, "seq": seq, "holder": holder}
        ):
            seq += 1
        self._top[scope] = max(self._top.get(scope, 0), seq)
        return seq

    async def _record(self, claim: str, scope: str, seq: int) -> int:
        await self.collection.update_one({"_id": claim}, {"$set": {"seq": seq}})
        self._top[scope] = max(self._top.get(scope, 0), seq)
        return seq

    async def top(self, scope: str) -> int:
        """The highest number taken in `scope` (its floor for none), in O(log n) `_id` lookups."""
        known = self._top.get(scope)
        low = known if known is not None else await self.floor(scope)  # taken, or given before the scope (or 0)
        step = 1
        while await self._taken(scope, low + step):
            low, step = low + step, step * 2
        high = low + step  # free
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if await self._taken(scope, middle) else (low, middle)
        self._top[scope] = low
        return low

    async def floor(self, scope: str) -> int:
        """The number `scope` starts above (0 unless `set_floors` set one)."""
        floor = await self.collection.find_one({"_id": f"{scope}!floor"})
        return int(floor["seq"]) if floor is not None else 0

    async def start_above_once(self, done: str, floors: Callable[[], Awaitable[dict[str, int]]]) -> int | None:
        """A one-time upgrade: start each scope above the floor `floors()` finds (the numbers given before the scope
        existed, or outside it), then mark it done (`{done}!floor`); the number of floors found, None when it was done
        before. A scope's floor is only ever raised (`set_floors`), so a later upgrade finding more numbers given
        outside a scope starts it above them too. Safe to repeat or to run on two replicas at once: both find the same
        ones."""
        if await self.floor(done):
            return None
        found = await floors()
        await self.set_floors(found)
        await self.set_floors({done: 1})
        return len(found)

    async def set_floors(self, floors: dict[str, int]) -> None:
        """Start each scope above its floor, in one insert; a floor set before is raised to this one, never lowered
        (the numbers above it may have been taken since; a repeat sets the same). The scope's top is found again from
        the floor: the numbers taken above a lower one follow it without a gap, so galloping from any floor between
        finds them."""
        docs = [{"_id": f"{scope}!floor", "floor_of": scope, "seq": seq} for scope, seq in floors.items()]
        for i in sorted(await insert_many_once(self.collection, docs)):
            await self.collection.update_one({"_id": docs[i]["_id"]}, {"$max": {"seq": docs[i]["seq"]}})
        for scope in floors:
            self._top.pop(scope, None)

    async def tops_under(self, prefix: str) -> dict[str, int]:
        """The top of every scope whose name starts with `prefix`: one read of an `_id` range (numbers and claims of
        those scopes), for a one-time upgrade, never on the allocation path."""
        tops: dict[str, int] = {}
        end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        async for doc in self.collection.find({"_id": {"$gte": prefix, "$lt": end}}, {"scope": 1, "seq": 1}):
            if "scope" in doc and doc.get("seq") is not None:  # a number, not a claim
                tops[doc["scope"]] = max(tops.get(doc["scope"], 0), int(doc["seq"]))
        return tops

    async def _taken(self, scope: str, seq: int) -> bool:
        return await self.collection.find_one({"_id": f"{scope}#{seq}"}, {"_id": 1}) is not None


def _claim(scope: str, holder: str) -> dict[str, object]:
    """A holder's claim in `scope`, dated: a claim found younger than CLAIMED_AT_WORK is another writer's at work."""
    return {"_id": f"{scope}@{holder}", "claim_scope": scope, "seq": None, "claimed_at": datetime.now(UTC)}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
