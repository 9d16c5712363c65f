"""The dedupe index in memory (IndexKeeper): what a check reads, with the versions of the records it holds and the
holds of people just answered "unique". Its durable copy is `candidate_store.CandidateStore`.
"""

from __future__ import annotations

from collections import deque

from xueji_dedupe.domain import CandidateRecord, DedupeIndex
from xueji_dedupe.feed import IdentityUpdate

HOLD_LAPSE_SECONDS = 24 * 3600.0  # the last resort for a record that never comes, neither created nor refused


class IndexKeeper:
    """The in-memory DedupeIndex a check reads, and the version of every record it holds.

    A person just answered "unique" is held in the index at once, before the registry has created the record
    and its identity comes back on the feed: a second creation for the same child a moment later (another
    school, the same minute) then finds the first instead of being answered "unique" too (R01). The hold ends
    when the record's identity arrives, or when the registry refused the creation (`refuse`), however far the feed
    is behind (a province's bulk intake), or when a corrected request names it as refused before it; `hold_seconds`
    (a day) is only the lapse of a record that never comes.

    A refused creation is remembered (`refused`) so that nothing of it is held or indexed again: its check redelivered,
    or its record's version read late (one that waited for the county's review, refused as the same person). Not for
    the life of the process: the memory ends when its record's removal is read (the version kept in `versions` then
    keeps every earlier one out), and otherwise `hold_seconds` after the refusal was last told, the time a hold of it
    would have lasted: a check answered before its refusal comes again within a redelivery, not a day later (and a
    restart, which reads the index back from the store, never remembered any refusal). Refusals named by many
    corrected requests thus cost memory for a day's refusals, not for every refusal ever told.
    """

    def __init__(self, hold_seconds: float = HOLD_LAPSE_SECONDS) -> None:
        self.index = DedupeIndex()
        self.versions: dict[str, int] = {}
        # creations the registry refused after they were answered, never held again: student id -> when it lapses
        self.refused: dict[str, float] = {}
        self._refusals_lapsing: deque[tuple[float, str]] = deque()  # the same, in the order they lapse
        self.held: dict[str, float] = {}  # student id -> when the hold lapses (monotonic seconds)
        self._lapsing: deque[tuple[float, str]] = deque()  # the same, in the order they lapse (holds only grow)
        self.hold_seconds = hold_seconds

    def settled(self, student_id: str) -> bool:
        """Whether this replica knows what became of the record: it reached the index (any version since), or its
        creation was refused. A hold or reservation for it has then done its work: the index answers for it."""
        return student_id in self.versions or student_id in self.refused

    def hold(self, record: CandidateRecord, now: float) -> None:
        """Hold a person being created; a record already known (by its identity feed) or refused is left as it is."""
        self.expire(now)
        if self.settled(record.student_id):
            return
        self.index.upsert(record)
        self.held[record.student_id] = now + self.hold_seconds
        self._lapsing.append((now + self.hold_seconds, record.student_id))

    def release(self, student_id: str) -> None:
        """End a hold early (the person turned out to be held by another replica's reservation)."""
        if self.held.pop(student_id, None) is not None and student_id not in self.versions:
            self.index.remove(student_id)

    def refuse(self, student_id: str, now: float) -> None:
        """The registry refused the creation (a rule other than R01, or the county found the same person): no record
        of it answers a check again. Its hold ends now, and a record of it that reached the index (one that waited for
        the county's review) leaves it without waiting for its removal on the feed: a corrected request told this
        first (`CheckRequested.refused_before`) is never a duplicate of it. Remembered until `hold_seconds` from now,
        or until its record's removal is read."""
        self.expire(now)
        self.held.pop(student_id, None)
        self.index.remove(student_id)
        self.refused[student_id] = now + self.hold_seconds
        self._refusals_lapsing.append((now + self.hold_seconds, student_id))

    def expire(self, now: float) -> None:
        """End the holds and refusals that lapsed: from the front of their lapse order, so a class costs no scan."""
        while self._refusals_lapsing and self._refusals_lapsing[0][0] <= now:
            until, student_id = self._refusals_lapsing.popleft()
            if self.refused.get(student_id) == until:  # else ended or told again since
                del self.refused[student_id]
        while self._lapsing and self._lapsing[0][0] <= now:
            until, student_id = self._lapsing.popleft()
            if self.held.get(student_id) != until:
                continue  # ended or renewed since (the identity arrived, released, held again)
            del self.held[student_id]
            if student_id not in self.versions:
                self.index.remove(student_id)

    def apply(self, update: IdentityUpdate) -> bool:
        """Take an update unless a newer (or the same) version is already held; True when it changed something."""
        self.held.pop(update.student_id, None)
        if self.versions.get(update.student_id, 0) >= update.version:
            return False
        self.versions[update.student_id] = update.version
        if update.record is None or update.student_id in self.refused:
            self.index.remove(update.student_id)
        else:
            self.index.upsert(update.record)
        if update.record is None:
            self.refused.pop(update.student_id, None)  # its removal is read: `versions` keeps the earlier ones out
        return True
