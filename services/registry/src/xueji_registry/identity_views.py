"""Who saw a full ID number (R52): every answer of the identity route is recorded before it is given, and the R51
audit lists the views of its jurisdiction's records (who, which record, when)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from xueji_contracts.auth import OperatorClaims
from xueji_contracts.division import Division
from xueji_kit.store import Document, query_index


def jurisdiction_prefix(code: str) -> str:
    """The leading digits every school under `code` shares: a school itself, 350602 a county, 350600 a city
    (3506), 350000 a province (35)."""
    return Division.parse(code).prefix


class IdentityViews:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db["identity_views"]

    async def ensure_indexes(self) -> None:
        await query_index(self.collection, [("school_code", ASCENDING), ("viewed_at", ASCENDING)], name="school")

    async def record(self, student_id: str, school_code: str, operator: OperatorClaims, at: datetime) -> None:
        """Stored before the number is shown: a view that could not be recorded is not given."""
        await self.collection.insert_one(
            {
                "_id": str(uuid.uuid4()),
                "student_id": student_id,
                "school_code": school_code,
                "viewed_by": operator.model_dump(mode="json"),
                "viewed_at": at.isoformat(),
            }
        )

    async def under(self, code: str, limit: int = 10_000) -> list[dict[str, Any]]:
        """The views of records at schools under the jurisdiction `code`, oldest first."""
        query = {"school_code": {"$regex": f"^{jurisdiction_prefix(code)}"}}
        found = self.collection.find(query, {"_id": 0}).sort([("viewed_at", ASCENDING), ("_id", ASCENDING)])
        return [doc async for doc in found.limit(limit)]
