"""rules.exception.v1 -> every producer's exceptions kept for the semester audit (R51; R08, R27, R40)."""

from __future__ import annotations

from faststream import Context

from xueji_contracts.envelope import Envelope
from xueji_contracts.messages.exceptions import RuleExceptionRecorded
from xueji_registry.rule_exceptions import COLLECTION
from xueji_registry.service import RegistryService


async def on_rule_exception(
    message: Envelope[RuleExceptionRecorded], service: RegistryService = Context("registry")
) -> None:
    """Keep the exception for the audit (idempotent: the same exception id is the same document)."""
    p = message.payload
    doc = p.model_dump(mode="json")
    doc["occurred_at"] = p.occurred_at
    doc["scopes"] = sorted({p.jurisdiction, *([p.school_code] if p.school_code else [])})
    await service.runtime.db[COLLECTION].update_one({"_id": p.exception_id}, {"$set": doc}, upsert=True)
