"""dedupe.national.verdict.v1 -> the national tier's answer to a check this province forwarded (R03, R10)."""

from __future__ import annotations

from faststream import Context

from xueji_contracts.envelope import Envelope
from xueji_contracts.messages.dedupe import VerdictGiven
from xueji_dedupe.service import DedupeService


async def on_national_verdict(message: Envelope[VerdictGiven], dedupe: DedupeService = Context("dedupe")) -> None:
    await dedupe.record_national_answer(message)
