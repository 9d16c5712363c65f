"""The dashboard's projections: stages, their history, offline cases, and the counts per jurisdiction node.

Every hot read is an equality lookup on an indexed key (`node`, `parent`, `scopes`, `second`, `_id`),
which both MongoDB and FerretDB serve without scanning the collection.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from xueji_kit.store import Document, insert_once, query_index, replace_by_id, upsert_by_id

LATE = ("due_soon", "overdue")  # a deadline's states that say it is still open


def day_key(node: str, day: str) -> str:
    return f"{node}@{day}"


class DashboardStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.stages = db["dashboard_stages"]
        self.history = db["dashboard_history"]
        self.cases = db["dashboard_cases"]
        self.nodes = db["dashboard_nodes"]
        self.days = db["dashboard_days"]
        self.dirty = db["dashboard_dirty"]
        self.changes = db["dashboard_changes"]
        self.compliance = db["dashboard_compliance"]
        self.exceptions = db["dashboard_exceptions"]

    async def ensure_indexes(self) -> None:
        for collection, key in [
            (self.stages, "node"),
            (self.stages, "scopes"),
            (self.stages, "escalated_to_node"),
            (self.history, "stage_key"),
            (self.history, "node"),
            (self.cases, "node"),
            (self.cases, "scopes"),
            (self.nodes, "parent"),
            (self.changes, "second"),
            (self.compliance, "scopes"),
            (self.exceptions, "scopes"),
        ]:
            await query_index(collection, [(key, ASCENDING)], name=f"by_{key}")

    # Written by the consumers.
    async def set_stage(self, key: str, fields: dict[str, Any], *, insert_open: bool = False) -> None:
        """`insert_open`: an SLA event seen before its stage was opened creates it open, but never reopens one."""
        update: dict[str, Any] = {"$set": fields}
        if insert_open:
            update["$setOnInsert"] = {"open": True}
        await upsert_by_id(self.stages, key, update)

    async def add_history(self, entry: Document) -> bool:
        return await insert_once(self.history, entry)

    async def set_case(self, transfer_id: str, fields: dict[str, Any]) -> None:
        await upsert_by_id(self.cases, transfer_id, {"$set": fields})

    async def set_deadline(self, deadline_id: str, fields: dict[str, Any]) -> bool:
        """A deadline's latest state (messages of one deadline arrive in order: its key). False, and nothing written,
        for a warning or breach that comes after the deadline was met: its timer fired as it was met (the producer
        checks, then records the breach on a stream of its own, and the meeting can land in between), and a deadline
        met is done. Only its opening again (a recurring deadline) makes it open.

        A late state reads the row by `_id` and decides here: a filter with `state` beside `_id` is not served from
        the `_id` index on FerretDB 1.x (explain: no filter pushdown, a SCAN of the collection). Read then write is
        not atomic, which is safe because the one writer of a deadline is the consumer of its key's partition: a met
        before the late state on the partition was written before the late state is read (by a new owner too, which
        handles both again from its committed offset). Only a consumer still handling the late state after losing
        the partition, while the new owner already wrote the met that followed it, would write the late state over
        that met, and the row would show it until the deadline's next message: accepted, as that needs two owners of
        one partition at once."""
        if fields.get("state") in LATE:
            row = await self.compliance.find_one({"_id": deadline_id}, {"state": 1})
            if row is not None and row.get("state") == "met":
                return False
        await upsert_by_id(self.compliance, deadline_id, {"$set": fields})
        return True

    async def deadlines_under(self, node: str, limit: int) -> list[Document]:
        return [d async for d in self.compliance.find({"scopes": node}).limit(limit)]

    async def set_exception(self, exception_id: str, fields: dict[str, Any]) -> None:
        """An exception to a 'generally' rule (R08, R27, R40), for the county's dashboard (idempotent)."""
        await upsert_by_id(self.exceptions, exception_id, {"$set": fields})

    async def exceptions_under(self, node: str, limit: int) -> list[Document]:
        return [d async for d in self.exceptions.find({"scopes": node}).limit(limit)]

    async def mark_dirty(self, nodes: list[str], at: datetime) -> None:
        for node in dict.fromkeys(nodes):
            await upsert_by_id(self.dirty, node, {"$set": {"at": at}})

    async def stage(self, key: str) -> Document | None:
        return await self.stages.find_one({"_id": key})

    # Read by the aggregator (one writer of nodes and changes).
    async def take_dirty(self, limit: int) -> list[tuple[str, datetime]]:
        """Dirty nodes to recount, with when they were marked; removed before recounting, so a mark
        made meanwhile survives for the next round."""
        marks = [(d["_id"], d["at"]) async for d in self.dirty.find({}).limit(limit)]
        if marks:
            await self.dirty.delete_many({"_id": {"$in": [node for node, _ in marks]}})
        return marks

    async def open_stages_at(self, node: str) -> list[Document]:
        return [d async for d in self.stages.find({"node": node, "open": True})]

    async def escalated_to(self, node: str) -> list[Document]:
        return [d async for d in self.stages.find({"escalated_to_node": node, "open": True})]

    async def cases_at(self, node: str) -> list[Document]:
        return [d async for d in self.cases.find({"node": node})]

    async def breach_times_at(self, node: str) -> list[datetime]:
        return [d["at"] async for d in self.history.find({"node": node, "kind": "breached"}, {"at": 1})]

    async def put_node(self, node: str, doc: Document) -> None:
        await replace_by_id(self.nodes, {"_id": node, **doc})

    async def put_day(self, node: str, day: str, doc: Document) -> None:
        """The node's counts as last recounted on `day` (China time): one document per node per day, `_id`-keyed, so
        any past day is one lookup however long ago (the node document only knows today and 30 days of breaches)."""
        await replace_by_id(self.days, {"_id": day_key(node, day), **doc})

    async def prune_days(self, nodes: list[str], before_day: str) -> int:
        """Forget each node's day records older than `before_day`: an `_id` range per node (`<node>@` sorts before
        any of its days), since FerretDB on SQLite has no TTL index. Returns how many were removed."""
        removed = 0
        for node in nodes:
            result = await self.days.delete_many({"_id": {"$gte": day_key(node, ""), "$lt": day_key(node, before_day)}})
            removed += result.deleted_count
        return removed

    async def add_change(self, second: int, nodes: list[str], change_id: str) -> None:
        await insert_once(self.changes, {"_id": change_id, "second": second, "nodes": nodes})

    async def prune_changes(self, before_second: int) -> None:
        await self.changes.delete_many({"second": {"$lt": before_second}})

    async def all_nodes(self) -> list[str]:
        return [d["_id"] async for d in self.nodes.find({}, {"_id": 1})]

    # Read by the HTTP side.
    async def node(self, node: str) -> Document | None:
        return await self.nodes.find_one({"_id": node})

    async def day_of(self, node: str, day: str) -> Document | None:
        return await self.days.find_one({"_id": day_key(node, day)})

    async def days_of(self, nodes: list[str], day: str) -> dict[str, Document]:
        """Several nodes' documents for one day in one `_id` lookup (children of a node on a past day)."""
        found = self.days.find({"_id": {"$in": [day_key(node, day) for node in nodes]}})
        return {d["node"]: d async for d in found}

    async def children(self, node: str) -> list[Document]:
        return [d async for d in self.nodes.find({"parent": node})]

    async def changes_at(self, second: int) -> list[Document]:
        return [d async for d in self.changes.find({"second": second})]

    async def open_stages_under(self, node: str, limit: int) -> list[Document]:
        return [d async for d in self.stages.find({"scopes": node, "open": True}).limit(limit)]

    async def history_of(self, key: str) -> list[Document]:
        entries = [d async for d in self.history.find({"stage_key": key})]
        return sorted(entries, key=lambda d: d["at"])

    async def offline_cases_under(self, node: str, limit: int) -> list[Document]:
        return [d async for d in self.cases.find({"scopes": node}).limit(limit)]
