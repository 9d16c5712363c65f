"""registry.identity.v1 (national: dedupe.national.identity.v1) -> the durable copy of the index; a province
passes each identity on to the national tier, whose index covers every province (R03, R10)."""

from __future__ import annotations

from typing import Any

import structlog
from faststream import Context

from xueji_contracts.topics import NATIONAL_IDENTITY
from xueji_dedupe.feed import parse_identity, update_of
from xueji_dedupe.index_store import CandidateStore
from xueji_dedupe.settings import DedupeSettings
from xueji_kit.runtime import ServiceRuntime

log = structlog.get_logger("dedupe.identity")


async def on_identity(
    body: dict[str, Any],
    runtime: ServiceRuntime = Context("runtime"),
    candidates: CandidateStore = Context("candidates"),
    settings: DedupeSettings = Context("dedupe_settings"),
) -> None:
    message = parse_identity(body)
    if message is None:
        log.info("identity_message_passed_over", type=body.get("type"))
        return
    update = update_of(message)
    await candidates.save(update, str(message.message_id))
    if not settings.national and settings.national_enabled:
        # Forwarded after it is stored, also on a redelivery: the national tier ignores versions it holds.
        topic = settings.topic(NATIONAL_IDENTITY.name)
        await runtime.broker.publish(message.model_dump(mode="json"), topic, key=update.student_id.encode())
