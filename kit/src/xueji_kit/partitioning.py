"""Which partition a keyed message goes to: Kafka's default (murmur2 of the key, as the Java client and every other
producer of our topics compute it), remembered per key.

aiokafka computes murmur2 in pure Python, byte by byte: 3% of the registry's CPU in a bulk import, where each
student's record, identity and deadline messages are keyed by the same few ids. The answer for a key never changes
while the topic's partition count does not, so it is kept (the count is part of what is remembered)."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from aiokafka.partitioner import DefaultPartitioner, murmur2

KEYS_REMEMBERED = 65_536

_unkeyed = DefaultPartitioner()


@functools.lru_cache(maxsize=KEYS_REMEMBERED)
def _index(key: bytes, partitions: int) -> int:
    return int(murmur2(key) & 0x7FFFFFFF) % partitions


def partition_for(key: bytes | None, all_partitions: Sequence[int], available: Sequence[int]) -> int:
    """aiokafka's partitioner signature: the partition of `key` among `all_partitions` (sorted by id); a message
    without a key goes where aiokafka's default would put it (a random available partition)."""
    if key is None:
        return int(_unkeyed(key, all_partitions, available))
    return all_partitions[_index(key, len(all_partitions))]
