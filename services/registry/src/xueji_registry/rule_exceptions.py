"""Exceptions to "generally" rules on rules.exception.v1 (RULES "Exceptions"; R08, R27, R40).

The registry publishes its own (R08, R40) in the commit that records them, and keeps every producer's (the
transfer service's R27 too) in one collection, `_id` = exception id, for the semester audit (R51): the audit lists
them per jurisdiction whatever the rule.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from xueji_contracts.division import Division
from xueji_contracts.envelope import envelop
from xueji_contracts.messages.exceptions import RuleExceptionRecorded
from xueji_contracts.topics import RULE_EXCEPTION
from xueji_kit.outbox_entries import Outgoing
from xueji_kit.runtime import ServiceRuntime
from xueji_kit.store import Document, upsert_by_id
from xueji_registry.domain import StudentStatus

COLLECTION = "rule_exceptions"
FIELDS = ("rule", "clause", "authority", "jurisdiction", "operator", "reason", "evidence", "occurred_at")


def exception_messages(province: str, before: StudentStatus | None, after: StudentStatus) -> list[Outgoing]:
    """One message per exception this change recorded on the record."""
    known = {g.exception_id for g in before.exceptions} if before is not None else set()
    outgoing = []
    for granted in after.exceptions:
        if granted.exception_id in known:
            continue
        payload = RuleExceptionRecorded(
            exception_id=granted.exception_id,
            rule=granted.rule,
            clause=granted.clause.value,
            authority=granted.authority,
            jurisdiction=granted.jurisdiction,
            operator=granted.operator,
            reason=granted.reason,
            evidence=tuple(ref.uri for ref in granted.evidence),
            occurred_at=granted.recorded_at,
            subject_kind="student",
            subject_id=after.student_id,
            school_code=after.school_code,
        )
        message = envelop(payload, producer="registry", province=province, occurred_at=datetime.now(UTC))
        outgoing.append(Outgoing(RULE_EXCEPTION.name, after.student_id, message))
    return outgoing


async def keep(db: AsyncDatabase[Document], exception: RuleExceptionRecorded) -> None:
    """Keep one producer's exception for the audit (idempotent: the same exception id is the same document)."""
    doc = exception.model_dump(mode="json")
    doc["occurred_at"] = exception.occurred_at
    doc["scopes"] = sorted({exception.jurisdiction, *([exception.school_code] if exception.school_code else [])})
    await upsert_by_id(db[COLLECTION], exception.exception_id, {"$set": doc})


async def exceptions_under(runtime: ServiceRuntime, code: str) -> list[Document]:
    """Every exception recorded by an authority under `code`, or about a school under it, oldest first."""
    prefix = Division.parse(code).prefix  # a city's 350600 covers 3506..., not only codes starting 350600
    found = [doc async for doc in runtime.db[COLLECTION].find({"scopes": {"$regex": f"^{prefix}"}})]
    return sorted(found, key=lambda d: (d["occurred_at"], d["_id"]))


def audit_row(doc: Document) -> dict[str, Any]:
    """The audit's line of one exception: the contract's fields, whatever rule and producer."""
    occurred = doc["occurred_at"]
    occurred = occurred.replace(tzinfo=UTC) if occurred.tzinfo is None else occurred
    return {
        "exception_id": doc["_id"],
        "rule": doc["rule"],
        "clause": doc["clause"],
        "authority": doc["authority"],
        "jurisdiction": doc["jurisdiction"],
        "operator": doc["operator"],
        "reason": doc["reason"],
        "evidence": list(doc["evidence"]),
        "occurred_at": occurred.isoformat(),
        "subject_kind": doc["subject_kind"],
        "subject_id": doc["subject_id"],
        "school_code": doc.get("school_code"),
    }
