"""R51, R52: which systems receive the public status feed, for the semester audit: every system the policy registers
(with its consent), and the consumer groups through which it has read the public topics, as the brokers report.

A system reads only under its own consumer groups (its Kafka identity may use no others), so a group named after it
with committed offsets on a public topic is the broker's evidence that it received the feed."""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from aiokafka.admin import AIOKafkaAdminClient
from faststream.kafka.security import parse_security

from xueji_contracts.policy.subscribers import StatusSubscriber
from xueji_contracts.topics import public_topic_names
from xueji_kit.kafka_security import kafka_security
from xueji_kit.runtime import ServiceRuntime

log = structlog.get_logger("registry.feed_recipients")
ADMIN_TIMEOUT = 10.0


async def _groups_read(runtime: ServiceRuntime, names: list[str]) -> dict[str, dict[str, int]] | None:
    """group id -> {public topic: messages it has consumed (committed offsets)} for groups under `names`; None when
    the brokers cannot be asked (the audit then says so rather than claiming nobody read)."""
    settings = runtime.settings
    public = {settings.topic(t): t for t in public_topic_names()}
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers, **parse_security(kafka_security(settings))
    )
    try:
        async with asyncio.timeout(ADMIN_TIMEOUT):
            await admin.start()
            groups = [g[0] for g in await admin.list_consumer_groups() if g[0].startswith(tuple(names))]
            read: dict[str, dict[str, int]] = {}
            for group in sorted(groups):
                offsets = await admin.list_consumer_group_offsets(group)
                topics: dict[str, int] = {}
                for partition, committed in offsets.items():
                    if partition.topic in public and committed.offset >= 0:
                        topics[public[partition.topic]] = topics.get(public[partition.topic], 0) + committed.offset
                if topics:
                    read[group] = topics
            return read
    except Exception as exc:
        log.warning("feed_recipients_unavailable", error=str(exc))
        return None
    finally:
        await admin.close()


async def feed_recipients(runtime: ServiceRuntime, subscribers: tuple[StatusSubscriber, ...]) -> list[dict[str, Any]]:
    read = await _groups_read(runtime, [s.name for s in subscribers]) if subscribers else {}
    rows = []
    for s in subscribers:
        groups = None if read is None else {g: t for g, t in read.items() if g.startswith(s.name)}
        rows.append(
            {
                "name": s.name,
                "title": s.title,
                "consent_reference": s.consent_reference,
                "granted_by": s.granted_by,
                "kafka_user": f"subscriber-{s.name}",
                "topics": public_topic_names(),
                "consumer_groups": groups,  # None: the brokers could not be asked
                "received_feed": None if groups is None else bool(groups),
            }
        )
    return rows
