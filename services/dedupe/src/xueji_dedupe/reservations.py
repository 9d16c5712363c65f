"""Reservations of persons being enrolled, shared by every replica of the province's dedupe (R01, R14).

Each replica holds the persons it answered "unique" in its own memory (IndexKeeper.hold), which closes the race for
checks it answers itself. Checks for the same child can reach two replicas (the check topic is keyed by request), so
before answering "unique" to a creation the replica also reserves the person in the store: one insert whose `_id`
is the ID number (without one: the normalised name, birth date and gender). The replica that loses finds the
winner's record in the reservation, holds it and checks again: "duplicate" naming it for an ID number, the verdict
the fuzzy check gives for the rest (a county review, as one replica would have answered).

A reservation holds until the replica reading it knows what became of its record (`settled`: the record reached that
replica's index, which answers for it from then on, or the registry refused its creation: told on the identity feed,
or first by the corrected request's check, `refused_before`), however far the identity feed is behind. The registry's
refusal also removes it (`release`). `lapse` (a day) is only the last resort for a record that never comes. Nothing
is ever deleted or replaced on what a replica read alone: the one writer of a reservation as found is the one whose
marker (`taken:<key>:<holder>@<lapse>:<n>`, an insert the unique `_id` refuses to the others) names it, so two
replicas replacing a stale reservation at once cannot both answer "unique".
Every command selects by `_id` alone (the local store scans any other filter).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from pymongo.asynchronous.database import AsyncDatabase

from xueji_dedupe.domain import CandidateRecord
from xueji_dedupe.domain.names import name_key
from xueji_kit.store import Document, insert_many_once, insert_once

LAPSE = timedelta(days=1)
TAKER_STALE = timedelta(seconds=30)  # a marker's taker that wrote nothing for this long died: the next may take


class Reservations:
    def __init__(
        self,
        db: AsyncDatabase[Document],
        lapse: timedelta = LAPSE,
        settled: Callable[[str], bool] = lambda _: False,
    ) -> None:
        self.collection = db["id_reservations"]
        self.lapse = lapse
        self.settled = settled  # this replica knows what became of the record (IndexKeeper.settled)

    async def reserve_many(self, records: list[CandidateRecord]) -> dict[str, CandidateRecord]:
        """Reserve each record's person in one round trip; by student id, the records holding persons already
        reserved for someone else (those go through `reserve` alone: redelivery, lapse or another replica)."""
        at = datetime.now(UTC)
        taken = await insert_many_once(self.collection, [self._document(r, at) for r in records])
        held: dict[str, CandidateRecord] = {}
        for i in sorted(taken):
            holder = await self.reserve(records[i], at)
            if holder is not None:
                held[records[i].student_id] = holder
        return held

    async def reserve(self, record: CandidateRecord, now: datetime | None = None) -> CandidateRecord | None:
        """Reserve the record's person for it; None when it is this record's, else the record holding it."""
        at = now or datetime.now(UTC)
        document = self._document(record, at)
        for attempt in range(5):
            if await insert_once(self.collection, document):
                return None
            held = await self.collection.find_one({"_id": document["_id"]})
            if held is None:
                continue  # released just now: reserve again
            if held["student_id"] == record.student_id:
                return None  # a redelivered or repeated check for the same request
            if _aware(held["lapses_at"]) > at and not self.settled(held["student_id"]):
                return CandidateRecord.model_validate(held["record"])
            if await self._taken(held, at):
                if (await self.collection.replace_one({"_id": document["_id"]}, document)).matched_count:
                    return None
                continue
            await asyncio.sleep(0.05 * (attempt + 1))  # another replica replaces it: read what it wrote
        raise RuntimeError(f"could not reserve {document['_id']}: it kept changing hands")  # the check is retried

    async def release(self, record: CandidateRecord) -> bool:
        """The registry refused the record's creation: its reservation, if it still holds one, is removed (a
        corrected request for the same child is then checked afresh at every replica). True when removed."""
        at = datetime.now(UTC)
        held = await self.collection.find_one({"_id": reservation_key(record)})
        if held is None or held["student_id"] != record.student_id or not await self._taken(held, at):
            return False  # another record's (or already replaced by a replica that knew of the refusal)
        await self.collection.delete_one({"_id": held["_id"]})
        return True

    async def _taken(self, held: Document, at: datetime) -> bool:
        """Whether this caller is the one that may replace or remove the reservation as it found it: the first to
        insert the marker naming it. A marker whose taker wrote nothing for TAKER_STALE gives way to the next."""
        found_as = f"taken:{held['_id']}:{held['student_id']}@{_aware(held['lapses_at']).isoformat()}"
        n = 0
        while not await insert_once(self.collection, {"_id": f"{found_as}:{n}", "at": at}):
            marker = await self.collection.find_one({"_id": f"{found_as}:{n}"})
            if marker is None or at - _aware(marker["at"]) <= TAKER_STALE:
                return False
            n += 1
        return True

    def _document(self, record: CandidateRecord, at: datetime) -> Document:
        return {
            "_id": reservation_key(record),
            "student_id": record.student_id,
            "record": record.model_dump(mode="json"),
            "lapses_at": at + self.lapse,
        }


def reservation_key(record: CandidateRecord) -> str:
    """The ID number; without one, the name as compared (normalised) with birth date and gender: the same data
    typed at two schools at once. A child typed differently is left to the fuzzy check of each replica."""
    if record.id_number is not None:
        return f"id:{record.id_number}"
    return f"person:{name_key(record.name)}|{record.birth_date.isoformat()}|{record.gender.value}"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
