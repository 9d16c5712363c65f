"""Follow-ups the outbox relay gave up on: parked, one document per follower and outbox entry on `_id`, so that a
follower that keeps raising never holds the outbox (the events were published; only the follow-up waits).

An operator lists them and, after the fix, puts them back in the outbox, where the relay follows them again (with
every follower; follow-ups are idempotent) and publishes nothing twice (a requeued entry carries no messages):

    python -m xueji_kit.followups list --service registry
    python -m xueji_kit.followups requeue --service registry [--id <parked id> ...]

Run it where the service runs (same environment: MONGODB_URI, XUEJI_MONGODB_DATABASE). See docs/operations.md,
"Parked follow-ups".
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase

from xueji_kit.operator_cli import not_found, parsed, service_database
from xueji_kit.store import Document, insert_once

COLLECTION = "relay_followups_parked"
REQUEUED = "followup#"  # the `_id` prefix of an outbox entry put back by `requeue`


class ParkedFollowUps:
    def __init__(self, db: AsyncDatabase[Document], outbox: str = "events_outbox") -> None:
        self.parked = db[COLLECTION]
        self.outbox = db[outbox]

    async def park(self, follower: str, entry: Document, error: BaseException, attempts: int) -> str:
        """Keep what a re-run needs: the commits the entry stands for (not its messages, which were published). An
        entry put back by `requeue` that fails again is parked under the id it had (the outbox entry it stood for),
        not under one growing with each requeue."""
        entry_id = str(entry["_id"])
        if entry_id.startswith(REQUEUED):
            entry_id = entry_id.removeprefix(REQUEUED).partition("|")[2]
        parked_id = f"{follower}|{entry_id}"
        doc = {
            "_id": parked_id, "follower": follower, "entry_id": entry_id,
            "committed": [str(k) for k in entry.get("committed", [])],
            "error_type": type(error).__name__, "error": str(error)[:2000], "attempts": attempts,
            "parked_at": datetime.now(UTC),
        }  # fmt: skip
        await self.parked.replace_one({"_id": parked_id}, doc, upsert=True)
        return parked_id

    async def listed(self) -> list[Document]:
        """Every parked follow-up (an operator's read of a collection that is empty when all is well)."""
        return [doc async for doc in self.parked.find({})]

    async def requeue(self, ids: list[str] | None = None) -> list[str]:
        """Put parked follow-ups (all, or these) back in the outbox, ready for the relay; they leave the parking."""
        chosen = [d for d in await self.listed() if ids is None or d["_id"] in ids]
        for doc in chosen:
            entry = {
                "_id": f"{REQUEUED}{doc['_id']}", "aggregate_id": "", "version": 0, "outgoing": [], "confirmed": True,
                "requeued": True, "committed": doc["committed"], "staged_at": datetime.now(UTC),
            }  # fmt: skip
            await insert_once(self.outbox, entry)
            await self.parked.delete_one({"_id": doc["_id"]})
        return [str(d["_id"]) for d in chosen]


async def _run(args: argparse.Namespace) -> int:
    async with service_database(args.service) as db:
        parked = ParkedFollowUps(db)
        if args.command == "list":
            listed = await parked.listed()
            for doc in listed:
                print(f"{doc['_id']}  {doc['parked_at']:%Y-%m-%d %H:%M:%S}  {len(doc['committed'])} commit(s)  "
                      f"{doc['error_type']}: {doc['error'][:200]}")  # fmt: skip
            if not listed:
                print(f"no parked follow-ups in {db.name}")
            return 0
        requeued = await parked.requeue(args.id or None)
        for parked_id in requeued:
            print(f"requeued {parked_id}")
        listing = f"python -m xueji_kit.followups list --service {args.service}"
        return not_found(args.id, requeued, "parked follow-up", db.name, listing)


def main(argv: list[str] | None = None) -> int:
    verbs = {"list": "show the parked follow-ups", "requeue": "put them back in the outbox"}
    services = ["registry", "transfer"]
    return asyncio.run(_run(parsed("python -m xueji_kit.followups", __doc__, verbs, "requeue", services, argv)))


if __name__ == "__main__":
    sys.exit(main())
