"""Issue 15, defect 2: a 900 KB message that is not UTF-8 is dead-lettered whole (its exact bytes, key and headers,
topic, partition, offset and consumer group), in letters that fit the broker; the replay command puts it back on its
topic byte for byte; and the consumer goes on with the next message."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kafka_io import records_of, send_raw

from xueji_contracts.topics import TRANSFER_CASE, dlq
from xueji_kit.dlq import reassemble, replay
from xueji_registry.app import create_app
from xueji_registry.settings import RegistrySettings

pytestmark = pytest.mark.integration


def _not_utf8(size: int) -> bytes:
    raw = bytearray(random.Random(15).randbytes(size))
    raw[0] = 0xFF  # never valid UTF-8
    return bytes(raw)


async def test_a_900_kb_non_utf8_message_is_dead_lettered_whole_and_replayed_byte_for_byte(
    start_app: Any, isolation: Any
) -> None:
    await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    kafka, topic = isolation.servers.kafka, isolation.topic(TRANSFER_CASE.name)
    poison = _not_utf8(900 * 1024)
    headers = [("trace", b"\x00\xfe binary"), ("origin", b"test")]
    await send_raw(kafka, topic, [poison], key=b"\xffkey", headers=headers)

    def whole(found: list[Any]) -> bool:
        return bool(reassemble(json.loads(r.value) for r in found)[0])

    records = await records_of(kafka, dlq(topic), whole, timeout=45)
    assert all(len(r.value) < 1024 * 1024 for r in records), "every letter fits the broker's default limit"
    letters, problems = reassemble(json.loads(r.value) for r in records)
    assert problems == [] and len(letters) == 1
    letter = letters[0]
    assert (letter.value, letter.key, letter.headers) == (poison, b"\xffkey", headers)
    assert (letter.original_topic, letter.partition, letter.offset) == (topic, 0, 0)
    assert letter.consumer_group == f"{isolation.topic_prefix}registry.{TRANSFER_CASE.name}"
    assert letter.error_type == "UnicodeDecodeError" or letter.reason

    # The replay command, after a "fix": the same bytes back on the topic (dead-lettered again here, as expected).
    replayed, problems = await replay({"bootstrap_servers": kafka}, dlq(topic))
    assert problems == [] and len(replayed) == 1
    back = await records_of(kafka, topic, lambda found: len(found) >= 2, timeout=30)
    assert (back[1].value, back[1].key, list(back[1].headers)) == (poison, b"\xffkey", headers)


async def test_a_dry_run_with_a_group_marks_nothing_and_a_group_replays_each_letter_once(isolation: Any) -> None:
    """`--group` replays only what the group has not replayed before, then marks it: a dry run marks nothing (it
    replayed nothing), and what a replay publishes is marked only once it is on the topic."""
    from types import SimpleNamespace

    from xueji_kit.deadletter import letters_of

    kafka, topic = isolation.servers.kafka, isolation.topic(TRANSFER_CASE.name)
    record = SimpleNamespace(value=b'{"not": "a case"}', key=b"k", headers=[], partition=0, offset=7)
    [letter] = letters_of(record, topic, ValueError("broken"))
    await send_raw(kafka, dlq(topic), [letter.model_dump_json().encode()])
    options, group = {"bootstrap_servers": kafka}, f"{isolation.topic_prefix}ops-replay"

    would, _ = await replay(options, dlq(topic), group=group, dry_run=True)
    assert len(would) == 1
    replayed, problems = await replay(options, dlq(topic), group=group)
    assert (len(replayed), problems) == (1, [])  # the dry run marked nothing
    again, _ = await replay(options, dlq(topic), group=group)
    assert again == []  # marked once replayed
    back = await records_of(kafka, topic, lambda found: len(found) >= 1, timeout=30)
    assert [r.value for r in back] == [b'{"not": "a case"}']
