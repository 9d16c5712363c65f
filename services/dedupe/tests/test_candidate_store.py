"""The index's durable copy on the real store (issue 19): a batch of the identity feed is stored as a few packs, and
loading them back gives each student's newest version, also when a redelivered batch was packed otherwise."""

from __future__ import annotations

from datetime import date

import pytest

from xueji_dedupe.candidate_store import CandidateStore
from xueji_dedupe.domain import CandidateRecord, Gender
from xueji_dedupe.feed import IdentityUpdate
from xueji_dedupe.index_keeper import IndexKeeper

pytestmark = pytest.mark.integration


def _version(n: int, version: int = 1, *, removed: bool = False) -> tuple[IdentityUpdate, str]:
    record = CandidateRecord(
        student_id=f"stu_{n}", name=f"学生{n}", birth_date=date(2019, 3, 1 + n % 28), gender=Gender.FEMALE,
        region_code="350203", school_code="3502030001", status_number=f"J350203201903{n:06d}",
    )  # fmt: skip
    return IdentityUpdate(f"stu_{n}", version, None if removed else record, "35"), f"m{n}.{version}"


async def test_a_batch_of_the_feed_is_stored_as_packs_and_loads_back_each_students_newest_version(database):
    store = CandidateStore(database)
    await store.save_many([_version(n) for n in range(40)])
    await store.save_many([_version(n) for n in range(30, 60)])  # half of it again, packed otherwise (a redelivery)
    await store.save_many([_version(n, 2) for n in range(20)] + [_version(5, 3, removed=True)] + [_version(6, 1)])
    assert await store.packs.count_documents({}) == 3, "one pack per batch, not a document per version"
    assert await store.collection.count_documents({}) == 0
    keeper = IndexKeeper()
    assert await store.load_into(keeper) == 59, "stu_5 removed by its newest version"
    assert keeper.versions["stu_3"] == 2 and keeper.versions["stu_5"] == 3 and keeper.versions["stu_45"] == 1
    assert "stu_5" not in keeper.index and "stu_6" in keeper.index
    assert await store.save(*_version(70)) and not await store.save(*_version(70)), "a single version is one document"
