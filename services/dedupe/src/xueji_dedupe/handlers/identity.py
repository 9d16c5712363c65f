"""registry.identity.v1 (national: dedupe.national.identity.v1) -> the durable copy of the index; a province
passes each identity on to the national tier, whose index covers every province (R03, R10).

Consumed in batches: a bulk import's identities are stored in one round trip per batch."""

from __future__ import annotations

from typing import Any

import structlog
from faststream import Context

from xueji_contracts.topics import NATIONAL_IDENTITY
from xueji_dedupe.candidate_store import CandidateStore
from xueji_dedupe.feed import parse_identity, update_of
from xueji_dedupe.settings import DedupeSettings
from xueji_kit.batches import handle_batch, parsed
from xueji_kit.commits import commit_after
from xueji_kit.runtime import ServiceRuntime

log = structlog.get_logger("dedupe.identity")


decode_identities = parsed(parse_identity)  # None for a type this consumer does not know (additive contracts)


async def on_identities(
    parsed_messages: list[Any],
    runtime: ServiceRuntime = Context("runtime"),
    candidates: CandidateStore = Context("candidates"),
    settings: DedupeSettings = Context("dedupe_settings"),
    broker: Any = Context("broker"),
    message: Any = Context("message"),
) -> None:
    forwarded: list[Any] = []  # acks of the forwards: the offsets are committed once they are all in

    async def store(batch: list[Any]) -> None:
        messages = [m for m in batch if m is not None]
        if len(messages) < len(batch):
            log.info("identity_messages_passed_over", count=len(batch) - len(messages))
        await candidates.save_many([(update_of(m), str(m.message_id)) for m in messages])
        if not settings.national and settings.national_enabled:
            # Forwarded after they are stored, also on a redelivery: the national tier ignores versions it holds.
            topic = settings.topic(NATIONAL_IDENTITY.name)
            for identity in messages:
                key = update_of(identity).student_id.encode()
                body = identity.model_dump(mode="json")
                forwarded.append(await runtime.broker.publish(body, topic, key=key, no_confirm=True))

    await handle_batch(broker, message, parsed_messages, store)
    await commit_after(message, forwarded)  # the next batch is stored while these are acknowledged
