"""The answer to a class-sheet upload: what became of each good row (`Outcome`), and every row counted (`summary`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from xueji_registry.domain.enrollment_request import EnrollmentRefused, EnrollmentRequest
from xueji_registry.enrollment.reupload import differences, not_applied, still_refused
from xueji_registry.enrollment.sheet_rows import Checked, RowError


@dataclass(frozen=True)
class Outcome:
    """What became of a good row: requested now, or before (`first`: that request as it was asked); `refused`: that
    request was refused and the row says what it said; `refused_before`: the refused request a new one follows."""

    row: int
    request: EnrollmentRequest
    student_id: str
    first: EnrollmentRequest | None = None
    refused: EnrollmentRefused | None = None
    refused_before: str | None = None

    def differs(self) -> list[tuple[str, str]]:
        return [] if self.first is None or self.refused else differences(self.first, self.request)


def summary(checked: Checked, outcomes: Iterable[Outcome]) -> dict[str, Any]:
    """The answer to an upload. A row requested before counts as `already_requested` when it says what it said then
    (the same file again), as `already_requested_otherwise` when it does not: those rows are listed in `not_applied`,
    a field each, as errors are. A row whose request was refused, sent again as it was, counts as `still_refused`
    and is listed in `refused` with the rule and reason in English (as the CLI prints it) and the refusal itself
    (`refusal`: rule, reason, existing record, as the pending view answers it, for a page to say in its language);
    corrected, it was requested anew (`refused_before`) and counts as `requested`, as a new row does. Every row is
    counted once: `rows` == `requested` + `already_requested` + `already_requested_otherwise` + `still_refused` + the
    rows `errors` names (a row with several errors, and a student's second row in one sheet, is one of them); each
    good row is in `students`."""
    done = [(o, o.differs()) for o in outcomes]
    students = [{"row": o.row, "student_id": o.student_id, "new": o.first is None, "differs": [n for n, _ in differs],
                 "refused": o.refused is not None, "refused_before": o.refused_before}
                for o, differs in done]  # fmt: skip
    kept = [RowError(o.row, name, not_applied(first), checked.titles.get(name.removeprefix("basic.")))
            for o, differs in done for name, first in differs]  # fmt: skip
    refused = [(why, RowError(o.row, why.field or "row", still_refused(why), checked.titles.get(why.field or "")))
               for o, _ in done if (why := o.refused)]  # fmt: skip
    return {
        "rows": checked.rows,
        "requested": sum(1 for o, _ in done if o.first is None),
        "already_requested": sum(1 for o, differs in done if o.first is not None and not differs and not o.refused),
        "already_requested_otherwise": sum(1 for _, differs in done if differs),
        "still_refused": len(refused),
        "students": students,
        "not_applied": [k.as_dict() for k in kept],
        "refused": [row.as_dict() | {"refusal": _refusal(why)} for why, row in refused],
        "errors": [e.as_dict() for e in checked.errors],
        "warnings": [w.as_dict() for w in checked.warnings],
    }


def _refusal(refused: EnrollmentRefused) -> dict[str, Any]:
    return {"rule": refused.rule, "reason": refused.reason, "existing_student_id": refused.existing_student_id}
