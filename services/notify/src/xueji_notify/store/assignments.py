"""Who handles an open stage: the latest "assign to me" per stage, by the stage's jurisdiction node."""

from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from xueji_contracts.auth import OperatorClaims
from xueji_kit.store import Document, query_index, replace_by_id


class Assignments:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db["stage_assignments"]

    async def ensure_indexes(self) -> None:
        await query_index(self.collection, [("node", ASCENDING)], name="by_node")

    async def assign(self, key: str, node: str, operator: OperatorClaims, at: datetime) -> Document:
        doc = {"_id": key, "node": node, "assignee": operator.sub, "assignee_code": operator.code, "assigned_at": at}
        await replace_by_id(self.collection, doc)  # two operators pressing at once: the last one holds it
        return doc

    async def release(self, key: str) -> None:
        await self.collection.delete_one({"_id": key})

    async def of(self, key: str) -> Document | None:
        return await self.collection.find_one({"_id": key})

    async def under(self, prefix: str) -> list[Document]:
        return [d async for d in self.collection.find({"node": {"$regex": f"^{prefix}"}})]
