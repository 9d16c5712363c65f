"""Reservations of persons being enrolled, shared by every replica of the province's dedupe (R01, R14).

Each replica holds the persons it answered "unique" in its own memory (IndexKeeper.hold), which closes the race for
checks it answers itself. Checks for the same child can reach two replicas (the check topic is keyed by request), so
before answering "unique" to a creation the replica also reserves the person in the store: one insert whose `_id`
is the ID number (without one: the normalised name, birth date and gender). The replica that loses finds the
winner's record in the reservation, holds it and checks again: "duplicate" naming it for an ID number, the verdict
the fuzzy check gives for the rest (a county review, as one replica would have answered). A reservation lapses like a
hold does (the record was never created); a record that was created is in every replica's index by then.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pymongo.asynchronous.database import AsyncDatabase

from xueji_dedupe.domain import CandidateRecord
from xueji_dedupe.domain.names import name_key
from xueji_kit.store import Document, insert_many_once, insert_once


class Reservations:
    def __init__(self, db: AsyncDatabase[Document], lapse: timedelta = timedelta(minutes=10)) -> None:
        self.collection = db["id_reservations"]
        self.lapse = lapse

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
        for _ in range(3):
            if await insert_once(self.collection, document):
                return None
            held = await self.collection.find_one({"_id": document["_id"]})
            if held is None:
                continue  # it lapsed and was removed just now: reserve again
            if held["student_id"] == record.student_id:
                return None  # a redelivered or repeated check for the same request
            if _aware(held["lapses_at"]) > at:
                return CandidateRecord.model_validate(held["record"])
            await self.collection.delete_one({"_id": document["_id"], "student_id": held["student_id"]})
        raise RuntimeError(f"could not reserve {document['_id']}: it kept changing hands")  # the check is retried

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
