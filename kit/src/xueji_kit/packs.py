"""Packs: many small documents written at once as a few, each holding up to PACK_SIZE of them as one BSON value."""

from __future__ import annotations

import hashlib
from typing import Any

import bson
from bson.codec_options import CodecOptions

from xueji_kit.store import Document

PACK_SIZE = 1_000  # documents in one pack
_PACK_CODEC: CodecOptions[Document] = CodecOptions(tz_aware=True)


def packs(docs: list[Document], size: int = PACK_SIZE) -> list[Document]:
    """Many small documents written at once as a few: each pack holds up to `size` of them as one BSON value, which
    the local store keeps as a single field instead of converting each field of each document (issue 19). A pack is
    named by the `_id`s it holds, so writing the same ones again with `insert_many_once` writes nothing; the same
    document in two packs (a redelivered batch packed otherwise) is read once by `unpacked`."""
    found = []
    for start in range(0, len(docs), size):
        some = docs[start : start + size]
        digest = hashlib.blake2b("\n".join(str(d["_id"]) for d in some).encode(), digest_size=16).hexdigest()
        found.append({"_id": f"pack:{digest}", "packed": len(some), "docs": bson.encode({"d": some})})
    return found


def unpacked(docs: list[Document]) -> list[Document]:
    """Documents as read, packs opened (`packs`), each `_id` once."""
    if not any("packed" in d for d in docs):
        return docs
    found: dict[Any, Document] = {}
    for doc in docs:
        for one in bson.decode(doc["docs"], _PACK_CODEC)["d"] if "packed" in doc else (doc,):
            found.setdefault(one["_id"], one)
    return list(found.values())
