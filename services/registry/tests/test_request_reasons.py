"""R12: every change keeps why it was made; a reason of spaces alone (a clerk pressing the space bar to get past the
field) says nothing and is refused naming `reason`, as a missing one is. Padding around a real reason is dropped."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from xueji_registry.api import changes, graduation, progression, rosters

EVIDENCE = [{"kind": "other", "uri": "file://scan-1.pdf", "sha256": "0" * 64}]


@pytest.mark.parametrize(
    ("model", "body"),
    [
        (changes.ReviewBody, {"approve": False}),
        (changes.ExceptionBody, {"rule": "R40", "clause": "suspension_period", "evidence": EVIDENCE}),
        (changes.AbsenceBody, {"absent_since": "2026-10-08"}),
        (changes.FileHandoverBody, {"evidence": EVIDENCE}),
        (graduation.ReviewBody, {"approve": False}),
        (graduation.LeftOffBody, {"student_id": "stu_1"}),
        (progression.FreshmanBody, {"school_code": "3506020001", "segment": "junior", "grade": 7, "school_year": 2026}),
        (rosters.SubmissionBody, {}),
    ],
)
def test_r12_a_reason_of_spaces_alone_is_refused_naming_reason(model: type[BaseModel], body: dict[str, object]) -> None:
    with pytest.raises(ValidationError) as refused:
        model.model_validate(body | {"reason": " \u3000 "})
    assert [e["loc"] for e in refused.value.errors()] == [("reason",)]


def test_r12_a_reason_is_kept_without_the_spaces_around_it() -> None:
    assert changes.ReviewBody.model_validate({"approve": True, "reason": "  材料齐全 "}).reason == "材料齐全"
