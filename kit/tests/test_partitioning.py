"""Keyed messages go to the partition Kafka's default partitioner gives them (the Java client's and aiokafka's
murmur2), however often the key is seen: a consumer keyed by student relies on every producer agreeing."""

from __future__ import annotations

import random
import uuid

import aiokafka.partitioner
from aiokafka.partitioner import DefaultPartitioner, murmur2

from xueji_kit import partitioning
from xueji_kit.partitioning import partition_for


def test_a_keyed_message_goes_where_kafkas_default_partitioner_puts_it_every_time():
    chance = random.Random(19)
    default = DefaultPartitioner()
    keys = [chance.randbytes(chance.randint(0, 40)) for _ in range(2_000)] + [b"21", b"G350602201903151234"]
    for count in (1, 3, 6, 12, 50):
        partitions = list(range(count))
        for key in keys + keys:  # the second time from what was remembered
            assert partition_for(key, partitions, partitions) == default(key, partitions, partitions), (key, count)


def test_the_partition_count_is_part_of_what_is_remembered():
    key = b"student-7"
    seen = {count: partition_for(key, list(range(count)), list(range(count))) for count in range(1, 40)}
    assert seen == {count: DefaultPartitioner()(key, list(range(count)), []) for count in range(1, 40)}


def test_a_message_without_a_key_goes_to_an_available_partition():
    for _ in range(50):
        assert partition_for(None, [0, 1, 2, 3], [1, 3]) in {1, 3}
        assert partition_for(None, [0, 1, 2, 3], []) in {0, 1, 2, 3}


def test_java_clients_murmur2_of_a_known_key():
    # Kafka's own test vector (Utils.murmur2("21") == -973932308), as a partition of 4,096.
    assert partition_for(b"21", list(range(4096)), []) == (-973932308 & 0x7FFFFFFF) % 4096


def test_keys_of_every_length_and_kind_hash_as_aiokafkas_pure_python_murmur2():
    chance = random.Random(5)
    keys = [chance.randbytes(n) for n in range(0, 200) for _ in range(20)]
    keys += [str(uuid.UUID(int=chance.getrandbits(128))).encode() for _ in range(5_000)]
    keys += ["学籍 G35060220190315123X 𠮷".encode()[: n + 1] for n in range(30)]
    assert [partition_for(key, list(range(12)), []) for key in keys] == [
        (murmur2(key) & 0x7FFFFFFF) % 12 for key in keys
    ]


def test_a_key_is_hashed_by_the_compiled_murmur2_not_aiokafkas_pure_python_one(monkeypatch):
    def refused(data: bytes) -> int:
        raise AssertionError("aiokafka's pure-Python murmur2 was called")

    monkeypatch.setattr(aiokafka.partitioner, "murmur2", refused)
    monkeypatch.setattr(partitioning, "murmur2", refused, raising=False)
    assert partition_for(b"a key never seen before " + uuid.uuid4().bytes, [0, 1, 2], []) in {0, 1, 2}
