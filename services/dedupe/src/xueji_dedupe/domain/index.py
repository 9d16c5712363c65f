"""The in-memory dedupe index: records by student id, filed under identity and blocking keys."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet

from xueji_dedupe.domain.model import CandidateRecord
from xueji_dedupe.domain.profile import PersonProfile, profile_of


class DedupeIndex:
    """A pure data structure; the service keeps it current from status events and can rebuild it.

    `upsert` and `remove` are idempotent so that a redelivered or replayed event changes nothing:
    upserting the same record twice leaves one entry, upserting a changed record refiles it under
    its new keys, removing an absent id does nothing.
    """

    def __init__(self, records: Iterable[CandidateRecord] = ()) -> None:
        self._profiles: dict[str, PersonProfile] = {}
        self._by_identity: dict[str, set[str]] = {}
        self._by_block: dict[str, set[str]] = {}
        self._by_block_without_id: dict[str, set[str]] = {}  # the same, only records with no resident ID
        self._by_id_name: dict[str, set[str]] = {}  # records with a resident ID, for the second-ID rule (R14)
        for record in records:
            self.upsert(record)

    def __len__(self) -> int:
        return len(self._profiles)

    def __contains__(self, student_id: object) -> bool:
        return student_id in self._profiles

    def __iter__(self) -> Iterator[CandidateRecord]:
        return (self.record(student_id) for student_id in self._profiles)

    def upsert(self, record: CandidateRecord) -> None:
        """Add a record, or replace the one with the same student id (a key-information change)."""
        current = self._profiles.get(record.student_id)
        if current is not None and current.facts == record:
            return
        if current is not None:
            self._unfile(record.student_id, current)
        profile = profile_of(record)
        self._profiles[record.student_id] = profile
        for key in profile.identity_keys:
            self._by_identity.setdefault(key, set()).add(record.student_id)
        for key in profile.blocking_keys:
            self._by_block.setdefault(key, set()).add(record.student_id)
            if not profile.reliable_ids:
                self._by_block_without_id.setdefault(key, set()).add(record.student_id)
        for key in profile.id_name_keys:
            self._by_id_name.setdefault(key, set()).add(record.student_id)

    def remove(self, student_id: str) -> None:
        """Forget a record (a deletion approved by the Ministry, R13); absent ids are ignored."""
        current = self._profiles.pop(student_id, None)
        if current is not None:
            self._unfile(student_id, current)

    def record(self, student_id: str) -> CandidateRecord:
        facts = self._profiles[student_id].facts
        assert isinstance(facts, CandidateRecord)  # only CandidateRecords are ever filed
        return facts

    def profile(self, student_id: str) -> PersonProfile:
        return self._profiles[student_id]

    def same_identity(self, keys: Iterable[str]) -> set[str]:
        """Student ids filed under any of the identity keys (ID number, G number's ID, status number)."""
        return set().union(*(self._by_identity.get(key, ()) for key in keys))

    def same_block(self, keys: Iterable[str]) -> set[str]:
        """Student ids sharing at least one blocking key: the only records a fuzzy check looks at."""
        return set().union(*(self._by_block.get(key, ()) for key in keys))

    def same_block_without_ids(self, keys: Iterable[str]) -> set[str]:
        """`same_block`, only the records without a resident ID (L and J students)."""
        return set().union(*(self._by_block_without_id.get(key, ()) for key in keys))

    def same_id_name(self, keys: Iterable[str]) -> set[str]:
        """Records with a resident ID filed under the second-ID keys (same name and year or day, same number
        without its birth date): the only records with an ID that a request with another ID is compared with."""
        return set().union(*(self._by_id_name.get(key, ()) for key in keys))

    def student_ids(self) -> list[str]:
        return list(self._profiles)

    # The three below hand out the index's own sets, read-only, not copies: the audit walks a million records'
    # blocks once and copying each one cost it seconds. Do not change the index while iterating them.

    def id_name_blocks(self) -> Iterator[tuple[str, AbstractSet[str]]]:
        """Every second-ID key holding two or more records: the batch audit's pairs of two ID numbers."""
        return ((key, ids) for key, ids in self._by_id_name.items() if len(ids) > 1)

    def identity_groups(self) -> Iterator[AbstractSet[str]]:
        """Every set of two or more records sharing an identity key: the batch audit's exact duplicates."""
        return (ids for ids in self._by_identity.values() if len(ids) > 1)

    def blocks(self) -> Iterator[tuple[str, AbstractSet[str]]]:
        """Every blocking key holding two or more records: the batch audit compares within these only."""
        return ((key, ids) for key, ids in self._by_block.items() if len(ids) > 1)

    def block_sizes(self) -> dict[str, int]:
        """How many records each blocking key holds, for monitoring oversized blocks."""
        return {key: len(ids) for key, ids in self._by_block.items()}

    def _unfile(self, student_id: str, profile: PersonProfile) -> None:
        tables = [(self._by_identity, profile.identity_keys), (self._by_block, profile.blocking_keys)]
        if not profile.reliable_ids:
            tables.append((self._by_block_without_id, profile.blocking_keys))
        tables.append((self._by_id_name, profile.id_name_keys))
        for table, keys in tables:
            for key in keys:
                ids = table.get(key)
                if ids is None:
                    continue
                ids.discard(student_id)
                if not ids:
                    del table[key]
