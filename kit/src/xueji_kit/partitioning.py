"""Which partition a keyed message goes to: Kafka's default (murmur2 of the key, as the Java client and every other
producer of our topics compute it).

aiokafka computes murmur2 in pure Python, byte by byte: about 6 us a key, 2% of the registry's CPU in a bulk import,
where each student's check, record, identity and deadline messages are keyed by ids seen once or twice (a cache of
keys seen did not help). The same hash, compiled (`murmurhash2`, the 32-bit MurmurHash2 Kafka's `Utils.murmur2` is,
with Kafka's seed), takes 0.2 us; `test_partitioning` checks it against aiokafka's on thousands of keys."""

from __future__ import annotations

from collections.abc import Sequence

from aiokafka.partitioner import DefaultPartitioner
from murmurhash2 import murmurhash2

KAFKA_SEED = 0x9747B28C  # org.apache.kafka.common.utils.Utils.murmur2's seed

_unkeyed = DefaultPartitioner()


def partition_for(key: bytes | None, all_partitions: Sequence[int], available: Sequence[int]) -> int:
    """aiokafka's partitioner signature: the partition of `key` among `all_partitions` (sorted by id); a message
    without a key goes where aiokafka's default would put it (a random available partition)."""
    if key is None:
        return int(_unkeyed(key, all_partitions, available))
    return all_partitions[(murmurhash2(key, KAFKA_SEED) & 0x7FFFFFFF) % len(all_partitions)]
