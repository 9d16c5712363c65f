"""R54: a school's annual rosters — the new-student roster and the increase/decrease register of a school year —
composed from the records and their permanent history. Pure: the caller passes each record with its events."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from xueji_contracts.calendar.deadlines import local_date
from xueji_registry.domain.periods import school_year_of, school_year_start
from xueji_registry.domain.public_view import public_view
from xueji_registry.domain.state import StudentStatus

# Status changes that add a student to a school's register, or take one off it, during the year.
INCREASES = frozenset({"resumed", "returned_from_abroad", "resumed_after_dropout"})
DECREASES = frozenset({"transferred_out", "suspended", "went_abroad", "dropped_out", "deceased", "left"})


class RosterLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    student_id: str
    name: str
    status_number_masked: str  # R52: the roster leaves the school; numbers carry ID digits
    grade: int
    change: str  # "new", or the event type of the increase or decrease
    on: date


class AnnualRoster(BaseModel):
    model_config = ConfigDict(frozen=True)

    school_code: str
    school_year: int
    new_students: list[RosterLine]
    increases: list[RosterLine]
    decreases: list[RosterLine]
    on_register: int  # enrolled at this school now

    @property
    def counts(self) -> dict[str, int]:
        return {
            "new_students": len(self.new_students),
            "increases": len(self.increases),
            "decreases": len(self.decreases),
            "on_register": self.on_register,
        }


def _line(state: StudentStatus, change: str, on: date) -> RosterLine:
    view = public_view(state)
    return RosterLine(
        student_id=state.student_id,
        name=state.identity.name,
        status_number_masked=view.status_number_masked,
        grade=state.grade,
        change=change,
        on=on,
    )


def _changes_at_schools(events: Iterable[Mapping[str, Any]]) -> Iterable[tuple[str, str, bool, Mapping[str, Any]]]:
    """(school, change, is_increase, event) for every register change, following the record from school to school:
    a transfer inside the province is a decrease at the school left and an increase at the school joined."""
    school = ""
    for event in events:
        kind = str(event.get("type"))
        if kind == "status_recorded":
            school = str(event["school_code"])
        elif kind == "transferred_in":
            left = str(event.get("from_school") or school)
            if left:
                yield left, "transferred_away", False, event
            school = str(event["to_school"])
            yield school, kind, True, event
        elif kind in INCREASES or kind in DECREASES:
            yield school, kind, kind in INCREASES, event


def compose(
    school_code: str, school_year: int, records: Iterable[tuple[StudentStatus, Sequence[Mapping[str, Any]]]]
) -> AnnualRoster:
    """Every record with its events, in order: those the school created as freshmen of the year's class are new
    (the class year the request named, as R07 numbers them; for a record from before it was kept, the school year of
    its admission date); register changes at the school inside the year are increases or decreases."""
    start, end = school_year_start(school_year), school_year_start(school_year + 1)
    new: list[RosterLine] = []
    up: list[RosterLine] = []
    down: list[RosterLine] = []
    on_register = 0
    for state, events in records:
        if state.school_code == school_code and state.state.value == "enrolled":
            on_register += 1
        first = events[0] if events else {}
        if first.get("type") == "status_recorded" and first.get("school_code") == school_code:
            admitted = date.fromisoformat(str(first["admitted_on"]))
            if (first.get("school_year") or school_year_of(admitted)) == school_year:
                new.append(_line(state, "new", admitted))
        for school, change, increase, event in _changes_at_schools(events):
            on = local_date(_aware(event["at"]))
            if school == school_code and start <= on < end:
                (up if increase else down).append(_line(state, change, on))
    order = lambda line: (line.on, line.grade, line.student_id)  # noqa: E731
    return AnnualRoster(
        school_code=school_code,
        school_year=school_year,
        new_students=sorted(new, key=order),
        increases=sorted(up, key=order),
        decreases=sorted(down, key=order),
        on_register=on_register,
    )


def _aware(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
