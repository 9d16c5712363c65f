"""Writes that must stay safe on FerretDB 1.x too: idempotent inserts and upserts that may race."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import PyMongoError

from xueji_kit.store import Document, insert_once, is_duplicate_key

__all__ = ["insert_once", "replace", "upsert"]


async def upsert(collection: AsyncCollection[Document], doc_id: str, update: dict[str, Any]) -> None:
    """Two first writers may both try to insert; the loser applies its update to the winner's document."""
    try:
        await collection.update_one({"_id": doc_id}, update, upsert=True)
    except PyMongoError as exc:
        if not is_duplicate_key(exc):
            raise
        await collection.update_one({"_id": doc_id}, update)


async def replace(collection: AsyncCollection[Document], doc: Document) -> None:
    """Write `doc` whole under its `_id`: two first writers may both try to insert; the loser replaces the winner's
    document (last writer wins, as between two replaces of an existing one)."""
    try:
        await collection.replace_one({"_id": doc["_id"]}, doc, upsert=True)
    except PyMongoError as exc:
        if not is_duplicate_key(exc):
            raise
        await collection.replace_one({"_id": doc["_id"]}, doc)
