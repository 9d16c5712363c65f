"""Compliance deadlines a change of a record opens or meets (R02 status file, R44 death cancellation, R45 absence
report and a migrant dropout's file hand-over), and the school's annual rosters (R54), which belong to a school and
a school year rather than a record.

Pure: compares the record before and after a command. The service arms a timer for each opened deadline, cancels
it when met, and publishes every state on registry.compliance.v1 for notify to turn into tasks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from xueji_contracts.calendar.deadlines import end_of_local_day
from xueji_contracts.division import Division
from xueji_contracts.messages.status import StatusState
from xueji_registry.domain.absence import report_due
from xueji_registry.domain.change_kinds import ChangeKind
from xueji_registry.domain.periods import (
    DEATH_REPORT_MONTHS,
    GRADUATION_WINDOW_END,
    ROSTER_MONTHS,
    months_after,
    school_year_start,
    semester_end,
)
from xueji_registry.domain.state import StudentStatus
from xueji_registry.domain.status_changes import Death

DUE_SOON = timedelta(days=5)  # notice before the deadline, in calendar days (the measures count calendar months)


class DeadlineKind(StrEnum):
    STATUS_FILE = "status_file"  # R02
    DEATH_CANCELLATION = "death_cancellation"  # R44
    ABSENCE_REPORT = "absence_report"  # R45
    ANNUAL_ROSTER = "annual_roster"  # R54
    GRADUATION_ROSTER = "graduation_roster"  # R46: the county bureau reviews a submitted roster
    FILE_HANDOVER = "file_handover"  # R45: a migrant dropout's file goes to the household-register county


RULES = {
    DeadlineKind.STATUS_FILE: "R02",
    DeadlineKind.DEATH_CANCELLATION: "R44",
    DeadlineKind.ABSENCE_REPORT: "R45",
    DeadlineKind.ANNUAL_ROSTER: "R54",
    DeadlineKind.GRADUATION_ROSTER: "R46",
    DeadlineKind.FILE_HANDOVER: "R45",
}
# Deadlines the school's county bureau must meet (the bureau above it hears when they are overdue). R45: "the
# administrative department of education in charge of school registration" hands the file over (002 III.13).
BUREAU_DUTIES = frozenset({DeadlineKind.GRADUATION_ROSTER, DeadlineKind.FILE_HANDOVER})


@dataclass(frozen=True)
class Deadline:
    kind: DeadlineKind
    subject_id: str  # the opaque student id, or the roster id of a school's annual rosters
    school_code: str
    due_on: date
    occurrence: str = ""  # tells apart deadlines of one kind that recur on a record (a second absence)
    receiving_county: str | None = None  # R45 file hand-over: the household-register county bureau

    @property
    def deadline_id(self) -> str:
        suffix = f":{self.occurrence}" if self.occurrence else ""
        return f"{self.subject_id}:{RULES[self.kind]}{suffix}"

    @property
    def rule(self) -> str:
        return RULES[self.kind]

    @property
    def due_at(self) -> datetime:
        """24:00 Asia/Shanghai of the last allowed day."""
        return end_of_local_day(self.due_on)

    @property
    def warn_at(self) -> datetime:
        return self.due_at - DUE_SOON

    @property
    def jurisdiction(self) -> str:
        """Who must act: the school, or for a bureau's duty the school's county bureau."""
        return Division.parse(self.school_code).county.code if self.kind in BUREAU_DUTIES else self.school_code

    @property
    def bureau(self) -> str:
        """Who hears of it when it is overdue: the county bureau of the school (R02 "flagged to the county"), or for
        a bureau's own duty the city bureau above it."""
        school = Division.parse(self.school_code)
        return school.city.code if self.kind in BUREAU_DUTIES else school.county.code


def _status_file(state: StudentStatus | None) -> Deadline | None:
    if state is None or state.status_file_due is None or state.closure is not None:
        return None
    return Deadline(DeadlineKind.STATUS_FILE, state.student_id, state.school_code, state.status_file_due)


def _absence(state: StudentStatus | None) -> Deadline | None:
    """R45: open while an absence is recorded and the school has not yet reported it as dropout."""
    if state is None or state.absent_since is None or state.closure is not None or _absence_reported(state):
        return None
    since = state.absent_since
    return Deadline(DeadlineKind.ABSENCE_REPORT, state.student_id, state.school_code, report_due(since), str(since))


def _absence_reported(state: StudentStatus) -> bool:
    return any(change.kind is ChangeKind.ABSENCE_DROPOUT for change in state.pending)


def _file_handover(state: StudentStatus | None) -> Deadline | None:
    """R45: a migrant child who dropped out in compulsory education: open until the school's county bureau has
    handed the file to the household-register county (due at semester end), or the student resumed."""
    if state is None or state.closure is not None or state.dropout is None:
        return None
    dropout = state.dropout
    county = dropout.migrant_household_county
    if county is None or dropout.file_handed_over_on is not None:
        return None
    due = semester_end(dropout.on)
    occurrence = f"file_handover:{dropout.on}"
    return Deadline(DeadlineKind.FILE_HANDOVER, state.student_id, state.school_code, due, occurrence, county)


def _death(state: StudentStatus | None) -> Deadline | None:
    if state is None or state.state is StatusState.DECEASED or state.closure is not None:
        return None
    for change in state.pending:
        if change.kind is ChangeKind.DEATH and isinstance(change.details, Death):
            due = months_after(change.details.date_of_death, DEATH_REPORT_MONTHS)
            return Deadline(DeadlineKind.DEATH_CANCELLATION, state.student_id, state.school_code, due)
    return None


def deadlines_of(state: StudentStatus | None) -> dict[str, Deadline]:
    found = (_status_file(state), _death(state), _absence(state), _file_handover(state))
    return {d.deadline_id: d for d in found if d is not None}


def changes(before: StudentStatus | None, after: StudentStatus) -> tuple[list[Deadline], list[Deadline]]:
    """(opened, met): deadlines this change started, and those it fulfilled (or made moot). A rejected death
    cancellation opens nothing and meets nothing: its deadline keeps running until the record says deceased."""
    was, now = deadlines_of(before), deadlines_of(after)
    opened = [d for key, d in now.items() if key not in was]
    met = [d for key, d in was.items() if key not in now and _fulfilled(d, after)]
    return opened, met


def _fulfilled(deadline: Deadline, after: StudentStatus) -> bool:
    if deadline.kind is DeadlineKind.DEATH_CANCELLATION:
        return after.state is StatusState.DECEASED or after.closure is not None
    return True


def still_due(deadline_kind: DeadlineKind, state: StudentStatus | None) -> bool:
    """At the deadline: is the duty still not done? (A timer that fires after the duty was met stays quiet.)"""
    if state is None or state.closure is not None:
        return False
    if deadline_kind is DeadlineKind.STATUS_FILE:
        return state.status_file_due is not None
    if deadline_kind is DeadlineKind.ABSENCE_REPORT:
        return _absence(state) is not None
    if deadline_kind is DeadlineKind.FILE_HANDOVER:
        return _file_handover(state) is not None
    return state.state is not StatusState.DECEASED


def roster_id(school_code: str, school_year: int) -> str:
    return f"roster:{school_code}:{school_year}"


def annual_roster(school_code: str, school_year: int, months: int = ROSTER_MONTHS) -> Deadline:
    """R54: the school's new-student and increase/decrease rosters, due `months` (the province policy's
    `deadlines.roster_months`, 1 by default) after the school year starts."""
    due = months_after(school_year_start(school_year), months)
    return Deadline(DeadlineKind.ANNUAL_ROSTER, roster_id(school_code, school_year), school_code, due)


def graduation_review(roster: str, school_code: str, graduation_year: int, submission: int) -> Deadline:
    """R46: the county bureau reviews the school's submitted graduation roster (`roster` is its stream) before the
    graduation window closes; each submission is its own deadline (a returned roster comes back as a new one)."""
    month, day = GRADUATION_WINDOW_END
    return Deadline(
        DeadlineKind.GRADUATION_ROSTER, roster, school_code, date(graduation_year, month, day), str(submission)
    )
