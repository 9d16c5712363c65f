"""A class sheet uploaded again: which of a row's fields differ from the request first made for that student.

A row is keyed by the school and the person (its ID number, else name, birth date and gender:
`sheet_rows.person_key`), so a corrected row (a birth date or a name fixed, with the same ID number) is the request
made before, which stands as first asked while it is pending or enrolled: the upload changes nothing, and the clerk
is told so, field by field, instead of "already requested". A refused request does not stand: the row as it was is
told it is still refused, the corrected row is asked anew (`attempts`)."""

from __future__ import annotations

from typing import Any

from xueji_registry.domain.enrollment_request import EnrollmentRefused, EnrollmentRequest


def differences(first: EnrollmentRequest, again: EnrollmentRequest) -> list[tuple[str, str]]:
    """(field, what the first request said) for every field the row gives otherwise; basic information's fields as
    `basic.<name>`, as row errors name them."""
    before, now = _fields(first), _fields(again)
    return [(name, _shown(before.get(name))) for name in sorted(before.keys() | now.keys())
            if before.get(name) != now.get(name)]  # fmt: skip


def not_applied(first_value: str) -> str:
    return (f"differs from this student's request uploaded before ({first_value}): not applied, the request stands as "
            "first uploaded; correct it on the student's record once enrolled")  # fmt: skip


def still_refused(refused: EnrollmentRefused) -> str:
    existing = refused.existing_student_id
    named = f" ({existing})" if existing and existing not in refused.reason else ""
    return (f"refused ({refused.rule}): {refused.reason}{named}; uploaded again as it was, it stays refused: correct "
            "the row and upload it again, and it is a new request")  # fmt: skip


def _fields(request: EnrollmentRequest) -> dict[str, Any]:
    found = request.model_dump(mode="json", exclude={"basic"})
    found |= {f"basic.{name}": value for name, value in request.basic.model_dump(mode="json").items()}
    return {name: value for name, value in found.items() if value not in (None, [], "")}


def _shown(value: Any) -> str:
    if value is None:
        return "empty"
    return "、".join(value) if isinstance(value, list) else str(value)
