"""Additive contracts on the way in (issue 15, defect 9): a known message's fields that this consumer's contracts do
not know are dropped before typed parsing, at any depth and counted; the models themselves stay strict."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client import REGISTRY
from pydantic import ValidationError

from xueji_contracts.envelope import Envelope
from xueji_contracts.messages.dedupe import VerdictGiven
from xueji_kit.contract_policy import ignore_unknown_fields

VERDICT: dict[str, Any] = {
    "verdict": "unique", "student_id": "stu_1", "score": 0.1, "reason_zh": "无", "reason_en": "none",
    "features": [{"name": "name", "level": "differ", "similarity": 0.1, "weight": -2.0}],
}  # fmt: skip


def _message(payload: dict[str, Any], kind: str = "VerdictGiven", **envelope: Any) -> dict[str, Any]:
    return {
        "message_id": str(uuid.uuid4()), "type": kind, "occurred_at": datetime.now(UTC).isoformat(),
        "producer": "newer", "province": "35", "correlation_id": str(uuid.uuid4()), "schema_version": 1,
        "payload": payload, **envelope,
    }  # fmt: skip


def _counted(topic: str) -> float:
    labels = {"topic": topic, "type": "VerdictGiven"}
    return REGISTRY.get_sample_value("xueji_message_fields_ignored_total", labels) or 0


def test_unknown_fields_at_every_depth_are_dropped_and_counted() -> None:
    features = [VERDICT["features"][0] | {"new_in_feature": 1}]
    newer = _message(VERDICT | {"new_in_payload": "x", "features": features}, new_in_envelope=True)
    read = ignore_unknown_fields(json.dumps(newer).encode(), "t.dedupe.verdict.v1")
    message = Envelope[VerdictGiven].model_validate_json(read)
    assert message.payload.features[0].weight == -2.0
    assert _counted("t.dedupe.verdict.v1") == 3


def test_a_message_with_nothing_unknown_or_of_an_unknown_type_is_passed_as_it_is() -> None:
    for raw in (
        json.dumps(_message(VERDICT)).encode(),
        json.dumps(_message({"x": 1}, kind="SomethingFromTheFuture", extra=1)).encode(),
        b"not json",
        b"[1, 2]",
    ):
        assert ignore_unknown_fields(raw, "t.other") is raw


def test_wrong_known_fields_are_still_refused_and_the_models_stay_strict() -> None:
    wrong = _message(VERDICT | {"score": "high", "new": 1})
    with pytest.raises(ValidationError, match="score"):
        Envelope[VerdictGiven].model_validate_json(ignore_unknown_fields(json.dumps(wrong).encode(), "t.x"))
    with pytest.raises(ValidationError, match="new"):  # what a service produces, and HTTP bodies, stay strict
        VerdictGiven.model_validate(VERDICT | {"new": 1})
