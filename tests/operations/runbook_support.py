"""What the runbook's tests share besides fixtures."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from xueji_kit.settings import ServiceSettings


async def metric_value(client: Any, name: str, **labels: str) -> float:
    """A sample of the service's /metrics as Prometheus scrapes it (0 when absent)."""
    from prometheus_client.parser import text_string_to_metric_families

    text = (await client.get("/metrics")).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


async def groups_of(isolation: Any, service: str) -> list[str]:
    """The service's consumer groups, as `kafka-consumer-groups.sh --list` shows them."""
    admin = AIOKafkaAdminClient(bootstrap_servers=isolation.servers.kafka)
    await admin.start()
    try:
        names = [g[0] for g in await admin.list_consumer_groups()]
    finally:
        await admin.close()
    prefix = ServiceSettings(topic_prefix=isolation.topic_prefix).group(service)
    return sorted(n for n in names if n == prefix or n.startswith(f"{prefix}."))


async def reset_group_to(isolation: Any, group: str, at: datetime) -> None:
    """`--group <group> --all-topics --reset-offsets --to-datetime <at> --execute`."""
    admin = AIOKafkaAdminClient(bootstrap_servers=isolation.servers.kafka)
    await admin.start()
    try:
        partitions = list(await admin.list_consumer_group_offsets(group))
    finally:
        await admin.close()
    if not partitions:
        return  # a group that never committed: nothing to move
    consumer = AIOKafkaConsumer(bootstrap_servers=isolation.servers.kafka, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        found = await consumer.offsets_for_times({tp: int(at.timestamp() * 1000) for tp in partitions})
        ends = await consumer.end_offsets(partitions)
        await consumer.commit({tp: (found[tp].offset if found[tp] else ends[tp]) for tp in partitions})
    finally:
        await consumer.stop()
