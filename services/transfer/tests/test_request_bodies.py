"""R12, R21, R33: what an operator writes out on a transfer (a decision's reason, a rollback's reason, a declared
failure) is bounded as every other reason is, and spaces alone are no reason: refused naming the field."""

from __future__ import annotations

import pytest
from fastapi import HTTPException
from pydantic import BaseModel, ValidationError

from xueji_contracts.auth import OperatorClaims, Role
from xueji_transfer.api.common import build
from xueji_transfer.api.requests import DecisionRequest, ExaminationRequest, RollbackRequest, SystemFailureRequest
from xueji_transfer.domain import DecideStage

COUNTY = OperatorClaims(sub="c", role=Role.COUNTY, code="350602")


def _refused_field(model: type[BaseModel], body: dict[str, object]) -> str:
    with pytest.raises(ValidationError) as refused:
        model.model_validate(body)
    return ".".join(str(p) for p in refused.value.errors()[0]["loc"])


def test_r21_a_stage_decision_s_reason_of_2000_characters_is_refused_naming_reason() -> None:
    assert _refused_field(DecisionRequest, {"decision": "reject", "reason_code": "other", "reason": "理" * 2000}) == (
        "reason"
    )
    assert _refused_field(ExaminationRequest, {"conditions_met": True, "vacancy": True, "note": "x" * 2000}) == "note"
    kept = DecisionRequest.model_validate({"decision": "return_for_materials", "reason": "  缺户口簿  "})
    assert kept.reason == "缺户口簿"
    assert len(DecisionRequest.model_validate({"decision": "reject", "reason": "理" * 500}).reason or "") == 500


def test_r33_r23_a_rollback_or_declared_failure_with_only_spaces_is_refused_naming_the_field() -> None:
    assert _refused_field(RollbackRequest, {"reason": "   "}) == "reason"
    assert _refused_field(RollbackRequest, {"reason": "x" * 501}) == "reason"
    assert (
        _refused_field(SystemFailureRequest, {"description": " \u3000", "guardian_requested": False}) == "description"
    )


def test_r21_a_return_whose_reason_is_only_spaces_is_refused_by_the_command_naming_reason() -> None:
    body = DecisionRequest.model_validate({"decision": "return_for_materials", "reason": "   "})
    with pytest.raises(HTTPException) as refused:
        build(DecideStage, body, COUNTY, stage="receiving_bureau")
    assert refused.value.status_code == 422
    assert [p["field"] for p in refused.value.detail] == ["reason"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"decision": "reject", "reason_code": "other"}, "reason"),
        ({"decision": "reject", "reason": "名额已满"}, "reason_code"),
        ({"decision": "return_for_materials"}, "reason"),
    ],
)
def test_r21_a_reject_or_return_missing_its_reason_names_the_missing_field(body: dict[str, str], field: str) -> None:
    with pytest.raises(HTTPException) as refused:
        build(
            DecideStage,
            DecisionRequest.model_validate(body),
            COUNTY,
            stage="receiving_bureau",
        )
    assert refused.value.status_code == 422
    assert [p["field"] for p in refused.value.detail] == [field]
    assert refused.value.detail[0]["reason"].startswith("required to ")
