"""R03, R07: gapless allocation without transactions over the real store, found by `_id` lookups alone."""

from __future__ import annotations

import asyncio

import pytest

from xueji_kit import store_commands
from xueji_kit.store import connect
from xueji_registry.allocation import BLOCK, Sequences

pytestmark = pytest.mark.integration


@pytest.fixture
async def db(isolation):
    store_commands.install()  # before the client is made, so a test can count its commands
    client = connect(isolation.servers.mongodb)
    yield client[f"{isolation.database}_allocation"]
    await client.close()


async def test_r07_concurrent_holders_get_1_to_n_and_each_keeps_its_number(db):
    first, second = Sequences(db), Sequences(db)  # two replicas, each with its own hint
    holders = [f"stu-{i}" for i in range(60)]
    numbers = await asyncio.gather(*(s.allocate("S:x", h) for s, h in zip([first, second] * 30, holders, strict=True)))
    assert sorted(numbers) == list(range(1, 61))
    again = await asyncio.gather(*(second.allocate("S:x", h) for h in holders))  # redelivered: the same numbers
    assert again == numbers
    assert await Sequences(db).allocate("S:x", "stu-new") == 61  # a fresh process finds the top by lookups
    assert await Sequences(db).top("S:other") == 0


async def test_r07_a_number_won_just_before_a_crash_is_found_again_not_skipped(db):
    sequences = Sequences(db)
    assert await sequences.allocate("L:350602", "a") == 1
    # The holder claimed, won number 2, and crashed before recording it on its claim.
    await db["allocations"].insert_one({"_id": "L:350602@b", "claim_scope": "L:350602", "seq": None})
    await db["allocations"].insert_one({"_id": "L:350602#2", "scope": "L:350602", "seq": 2, "holder": "b"})
    assert await Sequences(db).allocate("L:350602", "b") == 2
    assert await Sequences(db).allocate("L:350602", "c") == 3


async def test_r03_l_and_j_counters_are_unique_without_claims(db):
    first, second = Sequences(db), Sequences(db)
    numbers = await asyncio.gather(*(s.next_unique("L:350603", f"stu-{i}") for i, s in enumerate([first, second] * 25)))
    assert sorted(numbers) == list(range(1, 51))  # unique, and here without a gap
    assert await first.next_unique("L:350603", "stu-0") == 51  # asked again: a new number (R03 needs no gaplessness)
    assert await Sequences(db).allocate("L:350603", "late") == 52  # the gapless path continues after them


async def test_r07_concurrent_batches_and_singles_share_1_to_n_and_a_redelivered_batch_keeps_its_numbers(db):
    replicas = [Sequences(db) for _ in range(3)]
    batches = [[f"b{b}-{i}" for i in range(40)] for b in range(4)]
    singles = [f"single-{i}" for i in range(20)]
    results = await asyncio.gather(
        *(replicas[b % 3].allocate_many("S:y", holders) for b, holders in enumerate(batches)),
        *(replicas[i % 3].allocate("S:y", h) for i, h in enumerate(singles)),
    )
    numbers = [n for batch in results[:4] for n in batch] + list(results[4:])
    assert sorted(numbers) == list(range(1, 181))  # gapless and unique across batches, singles and replicas
    assert await Sequences(db).allocate_many("S:y", batches[1]) == results[1]  # redelivered: the same numbers
    # The next ones follow on. Which of a batch's holders gets which is not ordered: a replica whose known top is stale
    # loses its first tries and takes the next free numbers above them (a CI run gave [182, 181]).
    assert sorted(await replicas[0].allocate_many("S:y", ["new-1", "new-2"])) == [181, 182]


async def test_r07_a_batch_that_crashed_before_recording_its_claims_gets_the_numbers_it_won(db):
    sequences = Sequences(db)
    # The batch claimed and won 1 and 2, then crashed before writing the numbers on its claims.
    await db["allocations"].insert_many([
        {"_id": "S:z@a", "claim_scope": "S:z", "seq": None}, {"_id": "S:z@b", "claim_scope": "S:z", "seq": None},
        {"_id": "S:z#1", "scope": "S:z", "seq": 1, "holder": "a"}, {"_id": "S:z#2", "scope": "S:z", "seq": 2, "holder": "b"},
    ])  # fmt: skip
    assert await Sequences(db).allocate_many("S:z", ["b", "c", "a"]) == [2, 3, 1]
    assert await sequences.next_unique_many("L:z", ["x", "y"]) == [1, 2]


async def test_r07_a_holder_named_twice_in_one_batch_gets_one_number(db):
    """A verdict delivered twice in one batch names its student twice: one number for it, the next for the next."""
    assert await Sequences(db).allocate_many("S:w", ["a", "a", "b"]) == [1, 1, 2]
    assert await Sequences(db).allocate_many("S:w", ["c"]) == [3]  # nothing was taken and left unused


async def test_r07_a_batch_across_schools_is_numbered_in_two_round_trips_and_stays_gapless_beside_another_replica(db):
    """Issue 19: a class's verdicts arrive mixed with other schools' (a batch of 500 spans 4-6 schools in a bulk
    import). Their R07 numbers cost the batch two round trips (every claim, then every number), not three per school:
    the top of a school's numbers is looked up only when this process does not know it yet, or when another replica
    took the numbers it tried."""
    mine, other = Sequences(db), Sequences(db)
    first = await mine.allocate_across({"S:a": ["a1", "a2"], "S:b": ["b1"], "S:c": ["c1", "c2", "c3"]})
    assert first == {"S:a": [1, 2], "S:b": [1], "S:c": [1, 2, 3]}
    with store_commands.counting(db.name) as log:
        again = await mine.allocate_across({"S:a": ["a3", "a4"], "S:b": ["b2", "b3"], "S:c": ["c4"]})
    assert again == {"S:a": [3, 4], "S:b": [2, 3], "S:c": [4]}
    assert store_commands.tally(log.commands) == {"insert allocations": 2}, store_commands.tally(log.commands)
    # Another replica numbers in S:a meanwhile: this process's knowledge of S:a is stale, its first try there loses,
    # and it takes the next free numbers above the other's, leaving no gap.
    assert await other.allocate_many("S:a", ["x1", "x2", "x3"]) == [5, 6, 7]
    assert await mine.allocate_across({"S:a": ["a5", "a6"], "S:b": ["b4"]}) == {"S:a": [8, 9], "S:b": [4]}
    # Redelivered (claims in): the same numbers, whichever replica; a holder named twice gets one.
    assert await other.allocate_across({"S:b": ["b4", "b2"], "S:a": ["a5", "a5"]}) == {"S:b": [4, 2], "S:a": [8, 8]}
    numbers = [d async for d in db["allocations"].find({"scope": {"$in": ["S:a", "S:b", "S:c"]}})]
    by_scope: dict[str, list[int]] = {}
    for n in numbers:
        by_scope.setdefault(n["scope"], []).append(n["seq"])
    assert {s: sorted(v) for s, v in by_scope.items()} == {
        "S:a": list(range(1, 10)),
        "S:b": [1, 2, 3, 4],
        "S:c": [1, 2, 3, 4],
    }


async def test_r03_counters_come_in_blocks_unique_across_processes_one_document_a_block_and_a_restart_skips(db):
    """A class's L numbers cost one document per 1,000 (issue 19), not one each; two replicas never give the same
    counter; a restarted process starts a new block (R03 counters may skip); blocks start above `first`."""
    first, second = Sequences(db), Sequences(db)
    taken = await asyncio.gather(*(s.take_many("L:350604", 300, first=5_001) for s in [first, second] * 3))
    numbers = [n for batch in taken for n in batch]
    assert len(set(numbers)) == 1_800 and min(numbers) >= 5_001, "unique, above the counters taken one by one"
    assert all(batch == sorted(batch) for batch in taken)
    blocks = await db["allocations"].count_documents({"scope": "L:350604!blocks"})
    assert blocks == 2 and await db["allocations"].count_documents({"scope": "L:350604"}) == 0
    restarted = await Sequences(db).take_many("L:350604", 2, first=5_001)
    assert restarted == [5_001 + blocks * BLOCK, 5_002 + blocks * BLOCK], "a new block: the rest of the others skipped"
    assert await first.take_many("L:350605", 1) == [1]


async def test_r07_series_sequences_start_above_the_numbers_an_earlier_version_gave_per_school(db):
    """An earlier version drew R07 numbers from one sequence per school and school year (S:{school}:{year}), shared by
    the school's segments, so two schools whose codes give the same digits gave the same numbers. After the upgrade a
    series starts above every such number of the schools it covers, in each segment: none is given again."""
    from province_rules import FUJIAN_LAYOUT

    from xueji_registry.domain import Segment
    from xueji_registry.numbers.supplementary import carry_over_school_scopes, series_scope

    given = {"S:3501020001:2024": 3, "S:3506020001:2024": 5, "S:3506020112:2024": 2, "S:3506020001:2023": 9}
    await db["allocations"].insert_many([
        {"_id": f"{scope}#{n}", "scope": scope, "seq": n, "holder": f"{scope}-{n}"}
        for scope, top in given.items() for n in range(1, top + 1)
    ])  # fmt: skip
    await asyncio.gather(*(carry_over_school_scopes(Sequences(db), FUJIAN_LAYOUT) for _ in range(2)))  # two replicas
    sequences = Sequences(db)

    async def next_of(segment: Segment, school: str, year: int = 2024) -> int:
        return await sequences.allocate(series_scope(segment, year, school, FUJIAN_LAYOUT), f"new-{segment}-{school}")

    assert await next_of(Segment.PRIMARY, "3501020001") == 6  # above both schools of "124020001"
    assert await next_of(Segment.JUNIOR, "3506020001") == 6  # "2240201": the old sequence was the segments' too
    assert await next_of(Segment.JUNIOR, "3506020212") == 3  # "2240212", above 3506020112's
    assert await next_of(Segment.PRIMARY, "3506020212") == 1  # "124020212": no school gave one of it
    assert await next_of(Segment.PRIMARY, "3506020001", 2023) == 10
    await carry_over_school_scopes(Sequences(db), FUJIAN_LAYOUT)  # run again at the next start: done, nothing moves
    assert await Sequences(db).allocate(series_scope(Segment.PRIMARY, 2024, "3506020001", FUJIAN_LAYOUT), "x") == 7


async def numbered_roster(db, school: str, places: int, *, approve: bool) -> None:
    """A 2027 junior roster of `school` as an earlier version stored it: each graduate numbered by place from 1,
    submitted, then approved (or returned) by the county bureau."""
    from datetime import UTC, datetime

    from xueji_contracts.auth import OperatorClaims, Role
    from xueji_kit.commit_documents import commit_key
    from xueji_registry.domain import Segment
    from xueji_registry.domain.event_base import to_document
    from xueji_registry.domain.graduation_review import RosterReview, apply, decide_review, decide_submission
    from xueji_registry.domain.graduation_roster import GraduateLine, GraduationRoster

    at = datetime(2027, 6, 20, tzinfo=UTC)
    lines = [GraduateLine(sequence=n, student_id=f"{school}-{n}", name="某", status_number_masked="L***",
                          certificate_number=f"B2270{school[-3:]}{n:04d}") for n in range(1, places + 1)]  # fmt: skip
    roster = GraduationRoster(school_code=school, graduation_year=2027, segment=Segment.JUNIOR, graduates=lines,
                              left_off=[])  # fmt: skip
    clerk, county = (
        OperatorClaims(sub="c", role=Role.SCHOOL, code=school),
        OperatorClaims(sub="b", role=Role.COUNTY, code=school[:6]),
    )
    submitted = decide_submission(RosterReview(), roster, clerk, "submitted", (), at)
    reviewed = decide_review(apply(RosterReview(), submitted), county, approve, "ok", at, 1)
    stream = f"graduation:{school}:2027:junior"
    await db["events"].insert_many([
        {"_id": commit_key(stream, v), "aggregate_id": stream, "version": v, "commit_id": f"c{v}",
         "events": [to_document(event)]}
        for v, event in ((1, submitted), (2, reviewed))
    ])  # fmt: skip


async def test_r08_certificate_series_start_above_the_places_an_earlier_version_numbered_per_school(db):
    """An earlier version numbered a school's certificates by place on its approved roster, each school from 1, so two
    schools of one series gave the same numbers. After the upgrade each certificate series starts above the highest
    place numbered on an approved roster of every school it covers; a roster returned, never approved, issued none."""
    from province_rules import FUJIAN_LAYOUT

    from xueji_kit.event_store import EventStore
    from xueji_registry.domain import Segment
    from xueji_registry.numbers.certificate_floors import carry_over_roster_places
    from xueji_registry.numbers.certificates import certificate_scope

    await numbered_roster(db, "3506020112", 3, approve=True)
    await numbered_roster(db, "3506020212", 5, approve=True)  # the same series, B2270212
    await numbered_roster(db, "3501020112", 9, approve=False)  # returned: no certificate was issued
    await numbered_roster(db, "3506020113", 2, approve=True)
    events = EventStore(db)
    await asyncio.gather(*(carry_over_roster_places(Sequences(db), events, FUJIAN_LAYOUT) for _ in range(2)))
    sequences = Sequences(db)

    async def next_of(school: str, year: int = 2027) -> int:
        return await sequences.allocate(certificate_scope(Segment.JUNIOR, year, school, FUJIAN_LAYOUT), f"new-{school}")

    assert await next_of("3501020112") == 6  # above both approved schools of B2270212
    assert await next_of("3506020113") == 3
    assert await next_of("3506020114") == 1  # no school gave one of its series
    assert await next_of("3506020112", 2028) == 1
    await carry_over_roster_places(Sequences(db), events, FUJIAN_LAYOUT)  # the next start: done, nothing moves
    assert await Sequences(db).allocate(certificate_scope(Segment.JUNIOR, 2027, "3506020212", FUJIAN_LAYOUT), "x") == 7


async def test_r08_no_certificate_number_a_record_holds_is_drawn_again(db):
    """An earlier version let the caller of the changes API name a graduation's certificate sequence, so a record may
    hold a number of a series above every place a roster numbered (and above what the series drew since). Every
    number a record of a series holds, however it was given, lies at or below the series' floor: the next number
    drawn is above it, also where the series had been upgraded from the rosters alone and drawn from since."""
    from datetime import timedelta

    from province_rules import FUJIAN_LAYOUT, handle
    from record_fixtures import COUNTY_CLERK, SCHOOL_CLERK, T0, enrollment, evidence

    from xueji_contracts.messages.status import StatusState
    from xueji_kit.commit_documents import commit_key
    from xueji_kit.event_store import EventStore
    from xueji_registry import domain as d
    from xueji_registry.domain.event_base import to_document
    from xueji_registry.domain.supplementary import numbering_of
    from xueji_registry.numbers.certificate_floors import carry_over_held_numbers, carry_over_roster_places
    from xueji_registry.numbers.certificates import draw_certificates

    async def graduated_with(student: str, school: str, sequence: int) -> str:
        """A junior record of `school` graduated in 2027 with the certificate sequence its caller named (stored
        on the request and the approval, as the earlier version took it); its certificate number."""
        graduation = d.Graduate(graduation_year=2027, numbering=numbering_of(school))
        clerk, county = (c.model_copy(update={"code": school[: len(c.code)]}) for c in (SCHOOL_CLERK, COUNTY_CLERK))
        state, events = handle(enrollment(d.Segment.JUNIOR, 9, school=school, operator=clerk), None, T0)
        commands = [
            d.RequestChange(operator=clerk, reason="毕业",
                            evidence=evidence(d.EvidenceKind.GRADUATION_ROSTER), details=graduation,
                            certificate_sequence=sequence),
            d.ReviewChange(operator=county, reason="审核通过", change_id="chg-2", approve=True,
                           certificate_sequence=sequence),
        ]  # fmt: skip
        for day, command in enumerate(commands, start=1):
            state, more = handle(command, state, T0 + timedelta(days=day))
            events += more
        assert state is not None and state.state is StatusState.GRADUATED
        await db["events"].insert_many([
            {"_id": commit_key(student, v), "aggregate_id": student, "version": v, "commit_id": f"c{v}",
             "events": [to_document(event.model_copy(update={"student_id": student}))]}
            for v, event in enumerate(events, start=1)
        ])  # fmt: skip
        [certificate] = state.certificates
        assert certificate.number is not None
        return certificate.number

    await numbered_roster(db, "3506020212", 3, approve=True)  # places 1-3 of B2270212NNNN
    events = EventStore(db)
    # The version before this one: upgraded from the rosters alone, then drew one number of the series.
    await carry_over_roster_places(Sequences(db), events, FUJIAN_LAYOUT)

    async def draw(school: str, student: str) -> int:
        numbers = await draw_certificates(
            Sequences(db), d.Segment.JUNIOR, 2027, numbering_of(school), [student], FUJIAN_LAYOUT
        )
        return numbers[student]

    assert await draw("3506020212", "stu_drawn") == 4
    # Records graduated through the changes API with the callers' sequences, before the registry drew them.
    assert await graduated_with("stu_forty", "3506020212", 40) == "B2270212" + "0040"
    assert await graduated_with("stu_seven", "3506020113", 7) == "B2270213" + "0007"  # a series no roster numbered
    await asyncio.gather(*(carry_over_roster_places(Sequences(db), events, FUJIAN_LAYOUT) for _ in range(2)))
    await asyncio.gather(*(carry_over_held_numbers(Sequences(db), events, FUJIAN_LAYOUT) for _ in range(2)))

    assert await draw("3506020212", "stu_next") == 41, "not 5 (nor 40, the number stu_forty holds)"
    assert await draw("3506020113", "stu_next") == 8, "not 7, which stu_seven holds"
    assert await draw("3506020212", "stu_drawn") == 4, "a student's own number, drawn before, comes back"
    assert await draw("3506020114", "stu_next") == 1, "no record holds a number of this series"
    await carry_over_held_numbers(Sequences(db), events, FUJIAN_LAYOUT)  # the next start: done, nothing moves
    assert await draw("3506020212", "stu_after") == 42


async def test_r07_a_replica_handed_a_holder_another_is_still_numbering_waits_for_its_number_not_a_second_one(db):
    """A rebalance hands a batch's verdicts to a new owner while the replica that lost them is still at work on them
    (a zombie consumer): it has claimed its holders and is about to write their numbers. The new owner finds the claims
    made and takes the zombie's numbers, instead of numbers of its own that would leave one of each pair unused: a gap
    in the series (R07, "no broken codes")."""
    from datetime import UTC, datetime

    holders = ["z1", "z2", "z3"]
    zombie_claims = [{"_id": f"S:q@{h}", "claim_scope": "S:q", "seq": None, "claimed_at": datetime.now(UTC)}
                     for h in holders]  # fmt: skip
    await db["allocations"].insert_many(zombie_claims)

    async def zombie_numbers() -> None:
        await asyncio.sleep(0.4)  # the zombie's second write lands while the new owner is deciding
        await db["allocations"].insert_many(
            [{"_id": f"S:q#{i}", "scope": "S:q", "seq": i, "holder": h} for i, h in enumerate(holders, start=1)]
        )

    owner, _ = await asyncio.gather(Sequences(db).allocate_across({"S:q": holders}), zombie_numbers())
    assert owner == {"S:q": [1, 2, 3]}
    assert sorted([d["seq"] async for d in db["allocations"].find({"scope": "S:q"})]) == [1, 2, 3]
    assert await Sequences(db).allocate_many("S:q", ["next"]) == [4]


async def test_r07_a_claim_whose_writer_stopped_long_ago_gets_its_number_at_once(db):
    """A claim older than a writer at work (or from before claims were dated) is a writer that stopped between claim
    and number: the redelivery takes a number without waiting."""
    import time
    from datetime import UTC, datetime, timedelta

    await db["allocations"].insert_many([
        {"_id": "S:o@old", "claim_scope": "S:o", "seq": None, "claimed_at": datetime.now(UTC) - timedelta(minutes=5)},
        {"_id": "S:o@undated", "claim_scope": "S:o", "seq": None},
    ])  # fmt: skip
    started = time.monotonic()
    assert await Sequences(db).allocate_many("S:o", ["old", "undated", "new"]) == [1, 2, 3]
    assert await Sequences(db).allocate("S:o2", "single") == 1
    assert time.monotonic() - started < 2


async def test_r07_two_replicas_numbering_one_holder_at_once_give_it_one_number(db):
    """The same single allocation (a later R07 request, redelivered to a second replica mid-way) on two replicas at
    once: the one that loses the claim waits for the other's number instead of taking its own."""
    first, second = Sequences(db), Sequences(db)
    numbers = await asyncio.gather(first.allocate("S:r", "h"), second.allocate("S:r", "h"))
    assert numbers == [1, 1]
    assert await Sequences(db).allocate("S:r", "next") == 2
