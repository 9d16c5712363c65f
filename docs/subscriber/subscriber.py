"""A copy of every student's public status, built from xueji's status feed the way another provincial system
(exam registration, subsidies, school health) would: plain aiokafka, nothing from xueji's code.

    pip install aiokafka        # or: uv run python docs/subscriber/subscriber.py ...
    python docs/subscriber/subscriber.py --bootstrap 127.0.0.1:19092 --group exam-registration.copy \
        --registry http://127.0.0.1:8101 --token "$(make -s token-subscriber NAME=exam-registration)" --seconds 30

1. Bootstrap: note where the change feed (student.status.v1) ends now, then read the compacted snapshot topic
   (student.status.snapshot.v1) from its beginning to its end: each student's latest status and its sequence.
2. Follow: read the change feed from the offsets noted in 1. A change whose sequence the copy already has is a
   repeat (the feed is at-least-once, and changes made while the snapshot was read are in both) and is skipped.
3. Gap check: sequences count each student's changes from 1 without gaps. A change more than one ahead of the
   copy means the copy missed one; every message carries the student's whole public status, so the copy is right
   again after applying it, and the missed change is repaired from the registry's status route (or by reading
   the snapshot again) and reported.

The copy lives in memory and is written as JSON (--out) on exit; a real system keeps it in its database together
with the offsets it has read, and bootstraps only the first time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

CHANGES = "student.status.v1"
SNAPSHOT = "student.status.snapshot.v1"
log = logging.getLogger("status-copy")

Fetch = Callable[[str], Awaitable[dict[str, Any] | None]]


@dataclass
class StatusCopy:
    """student_id -> the student's latest public status (the fields of a snapshot message), and what went wrong."""

    students: dict[str, dict[str, Any]] = field(default_factory=dict)
    gaps: list[tuple[str, int, int]] = field(default_factory=list)  # (student, sequence expected, sequence seen)
    repeats: int = 0

    def sequence(self, student_id: str) -> int:
        return int(self.students.get(student_id, {}).get("sequence", 0))

    def take_snapshot(self, status: dict[str, Any]) -> None:
        """A snapshot message (or the registry's answer): the student's status unless the copy already knows a later
        change (before compaction the topic still holds a student's earlier snapshots)."""
        if status["sequence"] >= self.sequence(status["student_id"]):
            self.students[status["student_id"]] = status

    def take_change(self, change: dict[str, Any]) -> bool:
        """A change message; False when it is one ahead of the copy by more than one (a gap, recorded)."""
        student, sequence = change["student_id"], change.get("sequence")
        if sequence is None:  # a message of the 1.0 contract, before sequences: take it as the latest status
            self.students[student] = {**self.students.get(student, {}), **_status_of(change)}
            return True
        known = self.sequence(student)
        if sequence <= known:
            self.repeats += 1
            return True
        in_order = sequence == known + 1
        if not in_order:
            self.gaps.append((student, known + 1, sequence))
        self.students[student] = _status_of(change)
        return in_order


def _status_of(change: dict[str, Any]) -> dict[str, Any]:
    """A change message as the student's status (the shape of a snapshot message)."""
    keep = ("student_id", "school_code", "county_code", "state", "status_number_masked", "grade", "school_year",
            "sequence", "effective_on", "recorded_at")  # fmt: skip
    status = {k: change.get(k) for k in keep}
    status["last_change"] = change.get("change")
    status["closed"] = change.get("change") in ("deleted", "refused_as_duplicate")
    return status


def http_status(registry: str, token: str) -> Fetch:
    """The registry's route for registered subscribers: one student's current public status (None if unknown)."""

    def get(student_id: str) -> dict[str, Any] | None:
        url = f"{registry}/v1/subscriber/students/{student_id}/status"  # the registry URL you were given
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
                return dict(json.load(answer))
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise

    async def fetch(student_id: str) -> dict[str, Any] | None:
        return await asyncio.to_thread(get, student_id)

    return fetch


async def _read_to_end(
    consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int], take: Callable[[Any], None]
) -> None:
    """Every record of the assigned partitions up to `ends` (the offsets they had when we started)."""

    async def behind() -> bool:
        return any([await consumer.position(tp) < end for tp, end in ends.items()])

    while await behind():
        for records in (await consumer.getmany(timeout_ms=500, max_records=1000)).values():
            for record in records:
                take(json.loads(record.value))


async def _partitions(admin: AIOKafkaAdminClient, topic: str) -> list[TopicPartition]:
    (described,) = await admin.describe_topics([topic])
    if described["error_code"] or not described["partitions"]:
        raise RuntimeError(f"topic {topic} not found (error {described['error_code']})")
    return [
        TopicPartition(topic, p["partition"]) for p in sorted(described["partitions"], key=lambda p: p["partition"])
    ]


async def bootstrap(
    consumer: AIOKafkaConsumer, admin: AIOKafkaAdminClient, prefix: str, copy: StatusCopy
) -> dict[TopicPartition, int]:
    """Read the snapshot topic from beginning to end into `copy`; return where the change feed ended before."""
    changes = await _partitions(admin, prefix + CHANGES)
    feed_ends = await consumer.end_offsets(changes)  # noted first: nothing recorded after this escapes us
    snapshot = await _partitions(admin, prefix + SNAPSHOT)
    consumer.assign(snapshot)
    await consumer.seek_to_beginning(*snapshot)
    await _read_to_end(consumer, await consumer.end_offsets(snapshot), lambda m: copy.take_snapshot(m["payload"]))
    log.info("bootstrapped students=%d", len(copy.students))
    return feed_ends


async def follow(
    bootstrap_servers: str,
    group: str,
    *,
    prefix: str = "",
    copy: StatusCopy | None = None,
    repair: Fetch | None = None,
    stop: asyncio.Event | None = None,
    **kafka: Any,
) -> StatusCopy:
    """Bootstrap, then follow the change feed until `stop` is set; gaps are repaired through `repair` if given.
    `kafka`: aiokafka's connection options (security_protocol, sasl_mechanism, sasl_plain_username, ...)."""
    copy = copy if copy is not None else StatusCopy()
    stop = stop or asyncio.Event()
    # The snapshot is read by a consumer of no group (nothing of it is committed); the group's consumer is assigned
    # once, to the change feed. Re-assigning one group consumer while its coordinator starts up trips an assertion
    # inside aiokafka ("Unexpected error during coordination AssertionError()") now and then.
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False, **kafka)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=group, enable_auto_commit=False, **kafka)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **kafka)
    await reader.start()
    await consumer.start()
    await admin.start()
    try:
        try:
            start_at = await bootstrap(reader, admin, prefix, copy)
        finally:
            await reader.stop()
        consumer.assign(list(start_at))
        for tp, offset in start_at.items():
            consumer.seek(tp, offset)
        unsaid = False  # read, and not yet told to the brokers
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=200, max_records=1000)
            for records in batches.values():
                for record in records:
                    change = json.loads(record.value)["payload"]
                    if not copy.take_change(change) and repair is not None:
                        await _repair(copy, change["student_id"], repair)
            if batches or unsaid:
                unsaid = not await _commit(consumer)
        if unsaid:  # a commit that failed after the last batch: said once more before stopping
            await _commit(consumer)
    finally:
        await consumer.stop()
        await admin.close()
    return copy


async def _commit(consumer: AIOKafkaConsumer) -> bool:
    """Tell the brokers what this system has read (the province's audit sees it); the copy does not depend on it,
    so a failed commit is retried on the next round, with or without new changes, and once more when stopping."""
    try:
        await consumer.commit()
    except KafkaError as error:
        log.warning("commit failed, retried: %s", error)
        return False
    return True


async def _repair(copy: StatusCopy, student_id: str, fetch: Fetch) -> None:
    current = await fetch(student_id)
    if current is not None:
        copy.take_snapshot(current)
    log.warning("gap student=%s repaired_to=%s", student_id, copy.sequence(student_id))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bootstrap", default="127.0.0.1:19092", help="Kafka bootstrap servers")
    parser.add_argument("--group", required=True, help="consumer group; must start with your registered name")
    parser.add_argument("--prefix", default="", help="topic prefix of the deployment, if any")
    parser.add_argument("--registry", help="registry URL, for repairing gaps (with --token)")
    parser.add_argument("--token", help="your subscriber token for the registry's status route")
    parser.add_argument("--seconds", type=float, default=0, help="stop after this long (0: until Ctrl-C)")
    parser.add_argument("--out", help="write the copy here as JSON on exit")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    copy = StatusCopy()

    async def run() -> None:
        stop = asyncio.Event()
        if args.seconds:
            asyncio.get_running_loop().call_later(args.seconds, stop.set)
        repair = http_status(args.registry, args.token) if args.registry and args.token else None
        await follow(args.bootstrap, args.group, prefix=args.prefix, copy=copy, repair=repair, stop=stop)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
    states: dict[str, int] = {}
    for status in copy.students.values():
        states[status["state"]] = states.get(status["state"], 0) + 1
    print(json.dumps({"students": len(copy.students), "by_state": states, "gaps": len(copy.gaps)}, ensure_ascii=False))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as out:
            json.dump(copy.students, out, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
