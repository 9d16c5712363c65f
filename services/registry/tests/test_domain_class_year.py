"""R07, R54, R52: the school year of the freshman class a record is created in (the year its request names) is the
year its number takes, the new-student roster that lists it and the year the public feed gives, not the admission
date's (a school year starts on 1 August: a July admission to the coming year's class is that year's). A record
created before the class year was kept falls back to its admission date's school year. Pure domain."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from province_rules import handle
from record_fixtures import CST, SCHOOL, Stream, enrollment
from test_domain_graduate_progression import progression, rollback
from test_domain_lifecycle import Record, graduation
from test_domain_progression_and_numbers import freshman, numbered

from xueji_registry import domain as d
from xueji_registry.domain.annual_roster import compose
from xueji_registry.domain.apply import replay
from xueji_registry.domain.events import from_documents, to_documents
from xueji_registry.domain.public_changes import public_changes
from xueji_registry.domain.public_feed import change_message, snapshot_message

JULY_20 = date(2026, 7, 20)  # the 2025-2026 school year by date


def _new_on(records: list[tuple[d.StudentStatus, list[dict[str, Any]]]], year: int) -> list[str]:
    return [line.student_id for line in compose(SCHOOL, year, records).new_students]


def _published_years(events: list[d.RegistryEvent]) -> list[int]:
    changes = public_changes(None, events, 0)
    return [change_message(c).school_year for c in changes] + [snapshot_message(changes[-1]).school_year]


def test_r54_r52_a_july_admission_to_the_2026_class_is_listed_and_published_in_2026_an_older_record_by_its_date():
    """The request names the 2026 class; the pupil was admitted on 20 July 2026. The 2026 new-student roster lists
    her and the feed says 2026 (both said 2025, the admission date's school year). Events stored before the class
    year was kept (no school_year) and a creation that names none list and publish the admission date's year."""
    named = enrollment(d.Segment.PRIMARY, 1, admitted_on=JULY_20).model_copy(update={"school_year": 2026})
    state, events = handle(named, None, datetime(2026, 7, 20, 10, tzinfo=CST))
    assert state is not None and state.school_year == 2026
    documents = to_documents(events)
    assert (_new_on([(state, documents)], 2026), _new_on([(state, documents)], 2025)) == (["stu-1"], [])
    assert _published_years(events) == [2026, 2026]

    stored_before = [{k: v for k, v in document.items() if k != "school_year"} for document in documents]
    old = replay(from_documents(stored_before))
    assert old is not None and (old.class_year, old.school_year) == (None, 2025)
    assert (_new_on([(old, stored_before)], 2025), _new_on([(old, stored_before)], 2026)) == (["stu-1"], [])
    assert _published_years(from_documents(stored_before)) == [2025, 2025]

    unnamed, unnamed_events = handle(
        enrollment(d.Segment.PRIMARY, 1, admitted_on=JULY_20), None, datetime(2026, 7, 20, tzinfo=CST)
    )
    assert unnamed is not None and unnamed.school_year == 2025
    assert _new_on([(unnamed, to_documents(unnamed_events))], 2025) == ["stu-1"]


class ClassOf2024(Record):
    """A sixth-grader of the 2024 primary class, admitted on 20 July 2024 (2023 by date), numbered and graduated."""

    def __init__(self) -> None:
        Stream.__init__(self)
        self.do(
            enrollment(d.Segment.PRIMARY, 6, admitted_on=date(2024, 7, 20)).model_copy(update={"school_year": 2024})
        )
        numbered(self, SCHOOL, 5)
        self.ask(graduation(), days=280)  # a primary diploma: the principal signs, at once
        assert self.now.state.value == "graduated" and self.now.school_year == 2024


def test_r07_r52_a_later_segment_takes_the_class_year_its_registration_names_and_a_rollback_restores_the_first():
    """A freshman registration names its class (2025, admitted 25 July 2025: 2024 by date): the feed says 2025. A
    progression case names none: the school year of the day it completed. Its R33 rollback restores the primary
    class's 2024, not the admission date's 2023."""
    registered = ClassOf2024()
    graduate = registered.now
    [event] = registered.do(
        freshman().model_copy(update={"admitted_on": date(2025, 7, 25), "school_year": 2025}), days=300
    )
    assert registered.now.school_year == 2025
    assert change_message(public_changes(graduate, [event], 0)[0]).school_year == 2025

    progressed = ClassOf2024()
    progressed.do(progression(), days=360)  # completed on 5 September 2025
    assert (progressed.now.class_year, progressed.now.school_year) == (None, 2025)
    progressed.do(rollback(), days=400)
    assert (progressed.now.segment, progressed.now.school_year) == (d.Segment.PRIMARY, 2024)
