"""The message envelope: required metadata, UTC times, derived ids, causation chains."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from xueji_contracts.envelope import Envelope, derive_id, envelop
from xueji_contracts.messages.status import StudentStatusRecorded

SHANGHAI = timezone(timedelta(hours=8))


def test_envelope_roundtrips_as_json_with_its_payload(status_recorded):
    message = envelop(
        status_recorded(grade=3),
        producer="registry",
        province="35",
        occurred_at=datetime(2026, 9, 1, 8, tzinfo=SHANGHAI),
    )
    again = Envelope[StudentStatusRecorded].model_validate_json(message.model_dump_json())
    assert again == message
    assert again.occurred_at == datetime(2026, 9, 1, 0, tzinfo=UTC)
    assert again.type == "StudentStatusRecorded"


def test_caused_message_inherits_correlation_and_names_its_cause(status_recorded):
    cause = envelop(status_recorded(grade=3), producer="registry", province="35", occurred_at=datetime.now(UTC))
    effect = envelop(
        status_recorded(grade=3), producer="notify", province="35", occurred_at=datetime.now(UTC), causation=cause
    )
    assert effect.correlation_id == cause.correlation_id
    assert effect.causation_id == cause.message_id


def test_naive_time_and_bad_province_are_refused_by_field(status_recorded):
    with pytest.raises(ValidationError) as problem:
        Envelope[StudentStatusRecorded](
            message_id=uuid.uuid4(),
            type="x",
            occurred_at=datetime(2026, 1, 1),
            producer="p",
            province="3",
            correlation_id=uuid.uuid4(),
            payload=status_recorded(grade=3),
        )
    fields = {e["loc"][0] for e in problem.value.errors()}
    assert fields == {"occurred_at", "province"}


def test_derived_ids_are_stable_and_distinct():
    first = uuid.uuid4()
    assert derive_id(first, "notify") == derive_id(first, "notify")
    assert derive_id(first, "notify") != derive_id(first, "registry")


def test_r52_public_status_payload_has_no_id_number_field():
    assert "id_number" not in StudentStatusRecorded.model_fields
