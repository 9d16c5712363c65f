"""Which students a school or jurisdiction has had: the batch reads (R51 audit, R54 and R46 rosters, R03 G-number
batch) start here instead of reading every event commit of the province.

A projection of the status records, one document per student (`_id` = student id) with its current school and
every school it has been at (and its current name, for a school's search by name), written when a record starts,
changes school or is renamed (RegistryService.execute) and again from the committed streams by the relay's follower
(follow_ups), so a crash between a commit and its entry here delays the entry, never loses it. It only says where to
look: each record found is replayed from its own stream, and the replayed state decides. Rebuilt from the events when
the collection is empty (a database from before it existed, or after a restore without it).
"""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from typing import Any

import structlog
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from xueji_kit.event_store import EventStore
from xueji_kit.store import Document, insert_many_once, query_index, upsert_by_id
from xueji_registry.domain import StudentStatus, from_documents
from xueji_registry.domain.apply import apply

LOADING_AT_ONCE = 16  # streams loaded concurrently for a batch read
log = structlog.get_logger("registry.school_register")


class SchoolRegister:
    def __init__(self, db: AsyncDatabase[Document], events: EventStore) -> None:
        self.collection = db["school_register"]
        self.events = events

    async def ensure_indexes(self) -> None:
        await query_index(self.collection, [("schools", ASCENDING)], name="schools")

    async def record(self, state: StudentStatus) -> None:
        """The student is at `state.school_code` now (idempotent; the schools it has left stay listed)."""
        at = {"school_code": state.school_code, "name": state.identity.name}
        await upsert_by_id(self.collection, state.student_id, {"$set": at, "$addToSet": {"schools": state.school_code}})

    async def start_many(self, states: list[StudentStatus]) -> None:
        """New records at their first school, in one insert; one listed before (a redelivery) is left as it is."""
        docs = [
            {"_id": s.student_id, "school_code": s.school_code, "schools": [s.school_code], "name": s.identity.name}
            for s in states
        ]
        await insert_many_once(self.collection, docs)

    async def settle_many(self, records: list[tuple[StudentStatus, list[str]]]) -> None:
        """Each record where its whole stream says it is and every school it has been at (the follower's write,
        idempotent and independent of order). One insert for them all; a record listed before is rewritten only when
        it has been at more than one school (listed with a single school, it can only be listed right)."""
        docs = [
            {"_id": s.student_id, "school_code": s.school_code, "schools": schools, "name": s.identity.name}
            for s, schools in records
        ]
        for i in sorted(await insert_many_once(self.collection, docs)):
            if len(docs[i]["schools"]) > 1:
                update = {k: docs[i][k] for k in ("school_code", "schools", "name")}
                await self.collection.update_one({"_id": docs[i]["_id"]}, {"$set": update})

    async def streams(self, *, school: str | None = None, under: str | None = None) -> list[list[dict[str, Any]]]:
        """The events of every record that has been at `school`, or at any school under the code `under`."""
        query = {"schools": school} if school is not None else {"schools": {"$regex": f"^{under}"}}
        ids = [str(doc["_id"]) async for doc in self.collection.find(query, {"_id": 1})]
        gate = asyncio.Semaphore(LOADING_AT_ONCE)

        async def load(student_id: str) -> list[dict[str, Any]]:
            async with gate:
                return await self.events.events_of(student_id)

        return [events for events in await asyncio.gather(*(load(i) for i in ids)) if events]

    async def named(self, school: str, text: str, limit: int) -> list[str]:
        """Ids of the students at `school` now whose name contains `text`: an equality on the indexed `schools`
        narrows to the school's own, the name is matched among those only."""
        query = {"schools": school, "school_code": school, "name": {"$regex": re.escape(text)}}
        return [str(d["_id"]) async for d in self.collection.find(query, {"_id": 1}).limit(limit)]

    async def rebuild_if_empty(self) -> int:
        """Fill an empty register from the event store (one read of every commit); how many students it lists."""
        if await self.collection.find_one({}, {"_id": 1}) is not None:
            return 0
        streams: dict[str, list[dict[str, Any]]] = defaultdict(list)
        async for commit in self.events.every_commit():
            aggregate = str(commit.get("aggregate_id", ""))
            if aggregate.startswith("stu_"):
                streams[aggregate].append(commit)
        for commits in streams.values():
            commits.sort(key=lambda c: int(c["version"]))
            schools: list[str] = []
            state: StudentStatus | None = None
            for event in from_documents([e for c in commits for e in c["events"]]):
                state = apply(state, event)
                if state.school_code not in schools:
                    schools.append(state.school_code)
            if state is not None:
                update = {"school_code": state.school_code, "schools": schools, "name": state.identity.name}
                await upsert_by_id(self.collection, state.student_id, {"$set": update})
        log.info("school_register_rebuilt", students=len(streams))
        return len(streams)
