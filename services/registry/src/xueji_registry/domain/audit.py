"""R51: the semester data audit of one record: which problems it has (invalid ID number, suspected duplicate,
missing status file, overdue deadline), each with its rule. Pure: the service gathers the records of a
jurisdiction and renders the list as JSON or a spreadsheet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from xueji_contracts.identity import InvalidResidentId, validate_resident_id
from xueji_contracts.messages.status import StatusState
from xueji_registry.domain.change_kinds import ChangeKind
from xueji_registry.domain.number_commands import g_number_discrepancy
from xueji_registry.domain.periods import DEATH_REPORT_MONTHS, months_after
from xueji_registry.domain.state import ChangePhase, StudentStatus
from xueji_registry.domain.status_changes import Death


class Problem(StrEnum):
    INVALID_ID_NUMBER = "invalid_id_number"  # R06
    SUSPECTED_DUPLICATE = "suspected_duplicate"  # R01, R14: waiting for the county's review
    MISSING_STATUS_FILE = "missing_status_file"  # R02: not yet established, still in time
    OVERDUE_STATUS_FILE = "overdue_status_file"  # R02: past its month
    OVERDUE_DEATH_CANCELLATION = "overdue_death_cancellation"  # R44
    AWAITING_NATIONAL_CHECKS = "awaiting_national_checks"  # R10: approved by the county, not yet checked
    G_NUMBER_DISCREPANCY = "g_number_discrepancy"  # R05: differs from G + ID and no recorded change explains it


RULES = {
    Problem.INVALID_ID_NUMBER: "R06",
    Problem.SUSPECTED_DUPLICATE: "R14",
    Problem.MISSING_STATUS_FILE: "R02",
    Problem.OVERDUE_STATUS_FILE: "R02",
    Problem.OVERDUE_DEATH_CANCELLATION: "R44",
    Problem.AWAITING_NATIONAL_CHECKS: "R10",
    Problem.G_NUMBER_DISCREPANCY: "R05",
}
LABELS = {
    Problem.INVALID_ID_NUMBER: ("身份证件号无效", "invalid ID number"),
    Problem.SUSPECTED_DUPLICATE: ("疑似重复，待县级复核", "suspected duplicate awaiting county review"),
    Problem.MISSING_STATUS_FILE: ("学籍档案未建立", "status file not yet established"),
    Problem.OVERDUE_STATUS_FILE: ("学籍档案逾期未建立", "status file overdue"),
    Problem.OVERDUE_DEATH_CANCELLATION: ("死亡注销逾期", "death cancellation overdue"),
    Problem.AWAITING_NATIONAL_CHECKS: ("待全国查重与比对", "awaiting national checks"),
    Problem.G_NUMBER_DISCREPANCY: ("G号与身份证号不一致且无变更记录", "G number unexplained by any recorded change"),
}


@dataclass(frozen=True)
class Finding:
    problem: Problem
    detail: str
    due: date | None = None

    @property
    def rule(self) -> str:
        return RULES[self.problem]


def findings(state: StudentStatus, today: date) -> list[Finding]:
    """Every problem of one record as of `today`; a closed record (refused duplicate, deleted) has none."""
    if state.closure is not None:
        return []
    found: list[Finding] = []
    if state.identity.id_number:
        try:
            validate_resident_id(state.identity.id_number)
        except InvalidResidentId as exc:
            found.append(Finding(Problem.INVALID_ID_NUMBER, exc.reason))
    if (discrepancy := g_number_discrepancy(state)) is not None:
        found.append(Finding(Problem.G_NUMBER_DISCREPANCY, discrepancy))
    if state.state is StatusState.PENDING_REVIEW:
        found.append(Finding(Problem.SUSPECTED_DUPLICATE, "a possible duplicate: the county bureau decides"))
    if state.status_file_due is not None:
        late = state.status_file_due < today
        problem = Problem.OVERDUE_STATUS_FILE if late else Problem.MISSING_STATUS_FILE
        found.append(Finding(problem, f"due {state.status_file_due}", state.status_file_due))
    for change in state.pending:
        if change.kind is ChangeKind.DEATH and isinstance(change.details, Death):
            due = months_after(change.details.date_of_death, DEATH_REPORT_MONTHS)
            if due < today:
                death = f"death on {change.details.date_of_death}"
                found.append(Finding(Problem.OVERDUE_DEATH_CANCELLATION, death, due))
        if change.phase is ChangePhase.AWAITING_NATIONAL_CHECKS:
            found.append(Finding(Problem.AWAITING_NATIONAL_CHECKS, f"change {change.change_id} ({change.kind.value})"))
    return found
