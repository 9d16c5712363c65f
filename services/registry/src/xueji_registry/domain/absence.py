"""R45: unexcused absence, in every segment. The school records the first day; after 2 weeks (and repeated contact)
it reports the absence as dropout in writing (the absence_dropout change: at once in compulsory education, verified
by the county bureau in senior high); a student who returns first ends the absence. A migrant child's file is then
handed to the household-register county by the school's county bureau. The deadlines live in compliance.py."""

from __future__ import annotations

from datetime import date, datetime

from xueji_contracts.calendar.deadlines import local_date
from xueji_contracts.messages.status import StatusState
from xueji_registry.domain.commands import EndAbsence, RecordAbsence, RecordFileHandover
from xueji_registry.domain.errors import Refused
from xueji_registry.domain.event_base import recorded
from xueji_registry.domain.events import RegistryEvent
from xueji_registry.domain.periods import ABSENCE_DAYS, ABSENCE_REPORT_DAYS
from xueji_registry.domain.record_events import AbsenceEnded, AbsenceRecorded, FileHandedOver
from xueji_registry.domain.state import StudentStatus


def report_due(since: date) -> date:
    """The last day for the written dropout report: 2 weeks of absence, then a week to write it."""
    return date.fromordinal(since.toordinal() + ABSENCE_DAYS + ABSENCE_REPORT_DAYS)


def record(command: RecordAbsence, state: StudentStatus, now: datetime) -> list[RegistryEvent]:
    if state.state is not StatusState.ENROLLED:
        raise Refused("R45", f"only an enrolled student can be absent; the status is {state.state.value}")
    if state.absent_since is not None:
        raise Refused("R45", f"an absence since {state.absent_since} is already recorded", field="absent_since")
    if command.absent_since > local_date(now):
        raise Refused("R45", "the first day of absence is in the future", field="absent_since")
    return [
        AbsenceRecorded(
            **recorded(command, state.student_id, now),
            since=command.absent_since,
        )
    ]


def end(command: EndAbsence, state: StudentStatus, now: datetime) -> list[RegistryEvent]:
    since = state.absent_since
    if since is None:
        raise Refused("R45", "no absence is recorded for this student")
    if not since <= command.returned_on <= local_date(now):
        raise Refused("R45", f"the return day must lie between {since} and today", field="returned_on")
    return [
        AbsenceEnded(
            **recorded(command, state.student_id, now),
            since=since,
            returned_on=command.returned_on,
        )
    ]


def hand_over_file(command: RecordFileHandover, state: StudentStatus, now: datetime) -> list[RegistryEvent]:
    dropout = state.dropout
    county = dropout.migrant_household_county if dropout is not None else None
    if dropout is None or county is None:
        raise Refused("R45", "no migrant dropout's file is to be handed over for this student")
    if dropout.file_handed_over_on is not None:
        raise Refused("R45", f"the file was already handed over to {county} on {dropout.file_handed_over_on}")
    return [FileHandedOver(**recorded(command, state.student_id, now), receiving_county=county)]
