"""registry.identity.v1 (national: dedupe.national.identity.v1) -> the durable copy of the index; a province
passes each identity on to the national tier, whose index covers every province (R03, R10).

Consumed in batches: a bulk import's identities are stored in one round trip per batch."""

from __future__ import annotations

from typing import Any

from faststream import Context

from xueji_dedupe.feed import parse_identity
from xueji_dedupe.service import DedupeService
from xueji_kit.batches import handle_batch, parsed
from xueji_kit.commits import commit_after

decode_identities = parsed(parse_identity)  # None for a type this consumer does not know (additive contracts)


async def on_identities(
    parsed_messages: list[Any],
    dedupe: DedupeService = Context("dedupe"),
    broker: Any = Context("broker"),
    message: Any = Context("message"),
) -> None:
    forwarded: list[Any] = []  # acks of the forwards: the offsets are committed once they are all in

    async def store(batch: list[Any]) -> None:
        await dedupe.store_identities(batch, forwarded)

    await handle_batch(broker, message, parsed_messages, store)
    await commit_after(message, forwarded)  # the next batch is stored while these are acknowledged
