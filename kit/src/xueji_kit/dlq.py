"""Dead letters read back and replayed: `python -m xueji_kit.dlq replay --topic <topic>.dlq` re-publishes every
letter of a dead-letter topic to its original topic, byte for byte (value, key and headers), after a fix.

A letter's parts are reassembled and checked against its sha256; a record dead-lettered twice (consumed again after
a crash while its letter was being written) is replayed once. Handlers are idempotent on `message_id`, so a replayed
message that got through before is a no-op. Connection settings come from the same environment as the services'
(KAFKA_BOOTSTRAP_SERVERS, XUEJI_KAFKA_SECURITY_PROTOCOL, ...). See docs/operations.md, "Draining a dead-letter topic".
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import ssl
import sys
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from xueji_kit.settings import ServiceSettings

FETCH_BYTES = 8 * 1024 * 1024


class NoSuchTopic(Exception):
    """The topic asked for is not on the brokers, or this identity may not describe it."""


@dataclass(frozen=True)
class Letter:
    """One dead-lettered record, whole again."""

    original_topic: str
    partition: int
    offset: int
    key: bytes | None
    headers: list[tuple[str, bytes]]
    value: bytes
    error_type: str
    reason: str
    consumer_group: str | None


def reassemble(letters: Iterable[dict[str, Any]]) -> tuple[list[Letter], list[str]]:
    """Whole letters in the order their first part was read, and a problem line for each that is incomplete or does
    not match its checksum (nothing is replayed from those)."""
    parts: dict[tuple[str, int, int, str], dict[int, dict[str, Any]]] = {}
    problems = []
    for doc in letters:
        if "original_topic" not in doc:  # e.g. notify.webhook.dlq's failed deliveries: replayed by their own tool
            problems.append(f"a {doc.get('type', 'record')} is no dead letter of a consumed message: see "
                            "docs/operations.md for its topic")  # fmt: skip
            continue
        parts.setdefault((doc["original_topic"], doc["partition"], doc["offset"], doc.get("sha256", "")), {})[
            int(doc.get("part", 0))
        ] = doc
    whole: dict[tuple[str, int, int], Letter] = {}
    for (topic, partition, offset, digest), found in parts.items():
        first = found.get(0)
        expected = int(first["parts"]) if first is not None else -1
        if first is None or sorted(found) != list(range(expected)):
            problems.append(f"{topic}[{partition}]@{offset}: parts {sorted(found)} of {expected}")
            continue
        value = b"".join(base64.b64decode(found[i]["value_base64"]) for i in range(expected))
        if digest and hashlib.sha256(value).hexdigest() != digest:
            problems.append(f"{topic}[{partition}]@{offset}: checksum does not match")
            continue
        key = first.get("key_base64")
        headers = [(h["key"], base64.b64decode(h["value_base64"])) for h in first.get("headers", [])]
        raw_key = None if key is None else base64.b64decode(key)
        letter = Letter(topic, partition, offset, raw_key, headers, value, first["error_type"], first["reason"],
                        first.get("consumer_group"))  # fmt: skip
        whole.setdefault((topic, partition, offset), letter)
    return list(whole.values()), problems


def client_options(settings: ServiceSettings) -> dict[str, Any]:
    """aiokafka's connection options from the services' own settings (TLS and SASL on Kubernetes)."""
    options: dict[str, Any] = {"bootstrap_servers": settings.kafka_bootstrap_servers}
    protocol = settings.kafka_security_protocol
    if protocol != "PLAINTEXT":
        options["security_protocol"] = protocol
        if protocol in ("SSL", "SASL_SSL"):
            cafile = str(settings.kafka_ca_file) if settings.kafka_ca_file else None
            options["ssl_context"] = ssl.create_default_context(cafile=cafile)
        if protocol.startswith("SASL"):
            options |= {"sasl_mechanism": settings.kafka_sasl_mechanism,
                        "sasl_plain_username": settings.kafka_sasl_username,
                        "sasl_plain_password": settings.kafka_sasl_password}  # fmt: skip
    return options


async def read_letters(
    options: dict[str, Any],
    topic: str,
    group: str | None = None,
    handled: Callable[[list[dict[str, Any]]], Awaitable[bool]] | None = None,
    writes: str | None = None,
) -> list[dict[str, Any]]:
    """Every letter on `topic` (after the group's last commit, with a group), up to its end now. With a group, what
    was read is marked (the group's offsets committed) only once `handled` says it is done with it (True): a dry run
    or a failed replay marks nothing. Without `handled`, reading marks it. `writes`: a topic `handled` will publish
    to, which must exist too (NoSuchTopic before anything is read, as for `topic`)."""
    consumer = AIOKafkaConsumer(
        **options, group_id=group, enable_auto_commit=False, auto_offset_reset="earliest",
        fetch_max_bytes=FETCH_BYTES, max_partition_fetch_bytes=FETCH_BYTES,
    )  # fmt: skip
    await consumer.start()
    try:
        # A mistyped name would otherwise wait for partitions and read none, or fail the publishes after the wait.
        for name in [topic] + ([writes] if writes else []):
            for attempt in range(10):
                if name in await consumer.topics():  # (a topic whose leader is being elected is left out a moment)
                    break
                if attempt == 9:
                    raise NoSuchTopic(name)
                await asyncio.sleep(0.5)
        consumer.subscribe([topic])
        for _ in range(300):  # every partition, once the group (or, without one, the metadata) gives them
            if consumer.assignment():
                break
            await asyncio.sleep(0.1)
        partitions = sorted(consumer.assignment())
        if group is None:
            await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        docs: list[dict[str, Any]] = []
        while [tp for tp in partitions if await consumer.position(tp) < end[tp]]:
            batches = await consumer.getmany(*partitions, timeout_ms=500)
            docs += [json.loads(r.value) for records in batches.values() for r in records]
        done = True if handled is None else await handled(docs)
        if done and group is not None and partitions:
            await consumer.commit({tp: end[tp] for tp in partitions})
        return docs
    finally:
        await consumer.stop()


async def replay(
    options: dict[str, Any],
    dlq_topic: str,
    *,
    to: str | None = None,
    error_types: set[str] | None = None,
    group: str | None = None,
    dry_run: bool = False,
) -> tuple[list[Letter], list[str]]:
    """Re-publish the letters of `dlq_topic` (those of `error_types`, when given) to their original topic, or `to`;
    returns the letters replayed and the problems of those that could not be. With `group`, the letters read are
    marked for it once every chosen one is back on its topic (never on a dry run)."""
    chosen: list[Letter] = []
    problems: list[str] = []

    async def republish(docs: list[dict[str, Any]]) -> bool:
        letters, found = reassemble(docs)
        chosen.extend(x for x in letters if error_types is None or x.error_type in error_types)
        problems.extend(found)
        if dry_run:
            return False
        await _publish(options, chosen, to)
        return True

    await read_letters(options, dlq_topic, group, republish, writes=to)
    return chosen, problems


async def _publish(options: dict[str, Any], letters: list[Letter], to: str | None) -> None:
    if not letters:
        return
    largest = max(len(x.value) + len(x.key or b"") + sum(len(k) + len(v) for k, v in x.headers) for x in letters)
    size = max(largest + 64 * 1024, 1024 * 1024)  # the original fitted its topic: so does the replayed record
    producer = AIOKafkaProducer(**options, max_request_size=size, enable_idempotence=True)
    await producer.start()
    try:
        for x in letters:
            await producer.send_and_wait(to or x.original_topic, x.value, key=x.key, headers=x.headers)
    finally:
        await producer.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m xueji_kit.dlq", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    play = commands.add_parser("replay", help="re-publish dead letters byte for byte to their original topic")
    play.add_argument("--topic", required=True, help="the dead-letter topic, e.g. registry.enrollment.v1.dlq")
    play.add_argument("--to", help="publish to this topic instead of each letter's original topic")
    play.add_argument("--error-type", action="append", help="only letters of this error type (repeatable)")
    play.add_argument("--group", help="a consumer group: replay only what it has not replayed before, then mark it")
    play.add_argument("--dry-run", action="store_true", help="list what would be replayed, publish nothing")
    args = parser.parse_args(argv)
    options = client_options(ServiceSettings())
    try:
        chosen, problems = asyncio.run(
            replay(options, args.topic, to=args.to, error_types=set(args.error_type) if args.error_type else None,
                   group=args.group, dry_run=args.dry_run)
        )  # fmt: skip
    except NoSuchTopic as missing:
        what = "check the name; a dead-letter topic is <topic>.dlq, e.g. registry.enrollment.v1.dlq"
        if str(missing) != args.topic:
            what = "check the name given to --to (without --to, each letter goes back to its original topic)"
        print(f"no topic {missing} on the brokers (or this identity may not describe it): {what}", file=sys.stderr)
        return 2
    for letter in chosen:
        print(f"{'would replay' if args.dry_run else 'replayed'} {letter.original_topic}[{letter.partition}]"
              f"@{letter.offset} ({len(letter.value)} bytes, {letter.error_type})")  # fmt: skip
    if not chosen:
        of = f" of {', '.join(sorted(args.error_type))}" if args.error_type else ""
        since = f" the group {args.group} has not replayed before" if args.group else ""
        print(f"nothing to replay on {args.topic}: no letter{of}{since}")
    for problem in problems:
        print(f"not replayed: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
