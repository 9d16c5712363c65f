"""Unit tests: the in-memory index is idempotent and blocking keeps a check small at 100k records (R14)."""

from __future__ import annotations

from datetime import date

import pytest

from bench.synthetic import SyntheticDataset, generate, id_number_for
from xueji_dedupe.domain import CandidateRecord, CheckRequest, DedupeIndex, Gender, VerdictKind, check

BORN = date(2016, 11, 2)


def record(student_id: str = "s1", **fields: object) -> CandidateRecord:
    base: dict[str, object] = {
        "student_id": student_id,
        "name": "刘子轩",
        "birth_date": BORN,
        "gender": Gender.MALE,
        "region_code": "430104",
    }
    return CandidateRecord.model_validate(base | fields)


def probe(**fields: object) -> CheckRequest:
    return CheckRequest.model_validate(record().model_dump(exclude={"student_id"}) | fields)


def test_r14_upsert_twice_keeps_one_entry() -> None:
    index = DedupeIndex()
    index.upsert(record())
    blocks = index.block_sizes()
    index.upsert(record())
    assert len(index) == 1
    assert index.block_sizes() == blocks


def test_r14_update_refiles_under_the_new_keys() -> None:
    index = DedupeIndex([record()])
    index.upsert(record(name="刘梓萱", gender=Gender.FEMALE, birth_date=date(2016, 5, 9)))
    assert len(index) == 1
    assert check(index, probe()).kind is VerdictKind.UNIQUE
    assert check(index, probe(name="刘梓萱", gender=Gender.FEMALE, birth_date=date(2016, 5, 9))).kind is (
        VerdictKind.POSSIBLE_DUPLICATE  # R14: a fuzzy match is reviewed, never refused
    )
    assert all(size == 1 for size in index.block_sizes().values())


def test_r14_update_of_id_number_moves_the_exact_key() -> None:
    old_id, new_id = id_number_for("430104", BORN, 31), id_number_for("430104", BORN, 33)
    index = DedupeIndex([record(id_number=old_id)])
    index.upsert(record(id_number=new_id))
    assert check(index, probe(name="赵六", id_number=old_id)).kind is VerdictKind.UNIQUE
    assert check(index, probe(name="赵六", id_number=new_id)).kind is VerdictKind.DUPLICATE


def test_r14_remove_is_idempotent_and_empties_the_blocks() -> None:
    index = DedupeIndex([record(), record("s2", name="刘梓轩")])
    index.remove("s1")
    index.remove("s1")
    index.remove("never-there")
    assert "s1" not in index
    assert [r.student_id for r in index] == ["s2"]
    index.remove("s2")
    assert len(index) == 0
    assert index.block_sizes() == {}


@pytest.fixture(scope="module")
def large() -> tuple[SyntheticDataset, DedupeIndex]:
    dataset = generate(100_000, seed=20250901)
    return dataset, DedupeIndex(dataset.records)


def test_r14_check_against_100k_records_touches_only_its_blocks(large: tuple[SyntheticDataset, DedupeIndex]) -> None:
    dataset, index = large
    assert len(index) == 100_000
    compared = []
    by_id = {r.student_id: r for r in dataset.records}
    for pair in dataset.pairs[::50]:  # duplicates of every kind, checked as key-info changes
        duplicate = by_id[pair.duplicate_id]
        verdict = check(index, CheckRequest.model_validate(duplicate.model_dump()))
        assert pair.original_id in verdict.matched_student_ids or pair.kind.value == "typo"
        compared.append(verdict.candidates_compared)
    # Blocks hold tens of records; a linear scan would compare 100,000.
    assert max(compared) < 300
    assert sum(compared) / len(compared) < 100
    assert max(index.block_sizes().values()) < 500


def test_r01_a_person_answered_unique_is_held_until_the_feed_confirms_or_the_hold_lapses() -> None:
    from xueji_dedupe.feed import IdentityUpdate
    from xueji_dedupe.index_keeper import IndexKeeper

    keeper = IndexKeeper(hold_seconds=60)
    keeper.hold(record("new-1"), now=0.0)
    # A second school enrolls the same child a moment later: the held record is found and reviewed (R01, R14).
    assert check(keeper.index, probe(student_id="new-2")).kind is VerdictKind.POSSIBLE_DUPLICATE
    keeper.apply(IdentityUpdate("new-1", 1, record("new-1"), "35"))  # the registry created it: held no more
    keeper.expire(now=120.0)
    assert "new-1" in keeper.index
    keeper.hold(record("never-created", id_number=id_number_for("350602", date(2014, 2, 15), 13)), now=0.0)
    keeper.expire(now=61.0)  # refused or abandoned: the hold lapses and the index forgets it
    assert "never-created" not in keeper.index


def test_r01_a_hold_outlasts_a_lagging_feed_until_the_record_arrives_a_day_only_as_the_last_resort() -> None:
    """A hold ended after ten minutes: a province's bulk intake can hold the identity feed back longer, and the same
    child checked again was then answered "unique" (two records for one child). It lasts until the record reaches the
    index; a day is the lapse of a record that never comes."""
    from xueji_dedupe.feed import IdentityUpdate
    from xueji_dedupe.index_keeper import IndexKeeper

    keeper = IndexKeeper()
    keeper.hold(record("new-1"), now=0.0)
    keeper.expire(now=11 * 60.0)  # the feed is eleven minutes behind
    assert check(keeper.index, probe(student_id="new-2")).kind is VerdictKind.POSSIBLE_DUPLICATE
    keeper.apply(IdentityUpdate("new-1", 1, record("new-1"), "35"))  # the record reached the index
    assert "new-1" not in keeper.held and "new-1" in keeper.index
    never = record("never-created", id_number=id_number_for("350602", date(2014, 2, 15), 13))
    keeper.hold(never, now=0.0)
    keeper.expire(now=23 * 3600.0)
    assert "never-created" in keeper.index
    keeper.expire(now=24 * 3600.0 + 1)
    assert "never-created" not in keeper.index and not keeper.held


def test_r01_a_creation_refused_by_the_registry_ends_its_hold_and_is_not_held_again() -> None:
    """The registry refused the creation for another rule (R02): the corrected request for the same child is checked
    afresh, not as a duplicate of a record that never was; the refused request's check redelivered holds no one."""
    from xueji_dedupe.index_keeper import IndexKeeper

    keeper = IndexKeeper()
    keeper.hold(record("refused"), now=0.0)
    keeper.refuse("refused", now=0.5)
    assert "refused" not in keeper.index and not keeper.held
    keeper.hold(record("refused"), now=1.0)  # its check redelivered after the refusal
    assert "refused" not in keeper.index and keeper.settled("refused")
    assert check(keeper.index, probe(student_id="corrected")).kind is VerdictKind.UNIQUE


def test_r01_r14_a_refused_creation_whose_record_reached_the_index_leaves_it_before_its_removal_arrives() -> None:
    """R14: a record that waited for the county's review is in the index; the county found the same person and the
    registry refused its request. A corrected request naming it (`refused_before`) may come before the record's
    removal on the feed, and before the record itself: it is compared against neither, nor after they arrive."""
    from xueji_dedupe.feed import IdentityUpdate
    from xueji_dedupe.index_keeper import IndexKeeper

    keeper = IndexKeeper()
    keeper.apply(IdentityUpdate("reviewed", 1, record("reviewed"), "35"))
    keeper.refuse("reviewed", now=0.0)
    assert "reviewed" not in keeper.index and keeper.settled("reviewed")
    assert check(keeper.index, probe(student_id="corrected")).kind is VerdictKind.UNIQUE
    keeper.apply(IdentityUpdate("reviewed", 2, None, "35"))  # its removal, read late
    keeper.refuse("late", now=0.0)
    keeper.apply(IdentityUpdate("late", 1, record("late"), "35"))  # its record read after the refusal
    assert "late" not in keeper.index and len(keeper.index) == 0


def test_r01_r14_refused_creations_are_remembered_for_a_hold_s_lapse_not_for_the_life_of_the_process() -> None:
    """A long run of refused creations (one every ten seconds for a week) keeps at most the last `hold_seconds` of them:
    within that, a refused one's check redelivered holds no one and its record read late stays out of the index; a
    record whose removal was read is forgotten at once (its version keeps the earlier ones out), and a refusal told
    again (a corrected request naming it) is remembered from then."""
    from xueji_dedupe.feed import IdentityUpdate
    from xueji_dedupe.index_keeper import IndexKeeper

    day = 24 * 3600.0
    keeper = IndexKeeper(hold_seconds=day)
    largest = 0
    for second in range(0, 7 * 24 * 3600, 10):
        keeper.refuse(f"refused-{second}", now=float(second))
        largest = max(largest, len(keeper.refused))
    assert largest == 24 * 360 and len(keeper._refusals_lapsing) == 24 * 360  # a day's refusals, 8,640
    now = 7 * day
    latest, gone = f"refused-{7 * 24 * 3600 - 10}", "refused-0"
    assert keeper.settled(latest) and not keeper.settled(gone)

    keeper.hold(record(latest), now=now)  # its check redelivered
    assert latest not in keeper.index and not keeper.held
    keeper.apply(IdentityUpdate(latest, 1, record(latest), "35"))  # its record read late (R14, the county's review)
    assert latest not in keeper.index
    keeper.apply(IdentityUpdate(latest, 2, None, "35"))  # its removal: remembered by its version from now on
    assert latest not in keeper.refused and keeper.settled(latest)
    keeper.apply(IdentityUpdate(latest, 1, record(latest), "35"))  # the record's version redelivered
    keeper.hold(record(latest), now=now)
    assert latest not in keeper.index and not keeper.held

    renewed = f"refused-{7 * 24 * 3600 - 20}"
    keeper.refuse(renewed, now=now)  # told again: lapses a day from now, not from the first time
    keeper.expire(now + day - 1)
    assert keeper.settled(renewed) and len(keeper.refused) == 1
    keeper.expire(now + day)
    assert not keeper.refused and not keeper._refusals_lapsing


def test_r01_holds_lapse_in_their_own_order_and_a_renewed_hold_keeps_its_new_lapse() -> None:
    from xueji_dedupe.index_keeper import IndexKeeper

    keeper = IndexKeeper(hold_seconds=60)
    first = record("first")
    keeper.hold(first, now=0.0)
    keeper.hold(record("second", id_number=id_number_for("350602", date(2014, 2, 15), 13)), now=30.0)
    keeper.release("first")
    keeper.hold(first, now=40.0)  # held again (another replica's reservation went away): lapses at 100, not 60
    keeper.expire(now=61.0)
    assert "first" in keeper.index and "second" in keeper.index
    keeper.expire(now=91.0)
    assert "first" in keeper.index and "second" not in keeper.index
    keeper.expire(now=101.0)
    assert "first" not in keeper.index and not keeper.held
