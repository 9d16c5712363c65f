"""Batch consumers: each message of a batch is judged alone; a failing one never takes the good ones with it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from xueji_kit.batches import dead_letter_rejected, handle_batch, parsed


@dataclass
class Record:
    value: bytes
    offset: int
    topic: str = "t.v1"
    partition: int = 0
    key: bytes | None = b"k"


class Broker:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def publish(self, body: dict[str, Any], topic: str, key: bytes | None = None) -> None:
        self.sent.append((topic, body))


class Message:
    def __init__(self, records: list[Record]) -> None:
        self.raw_message = tuple(records)


def _parse(body: bytes) -> int:
    value = json.loads(body)["n"]
    if not isinstance(value, int):
        raise ValueError("n: not a number")
    return value


async def test_r06_a_malformed_message_in_a_batch_is_dead_lettered_alone_and_the_rest_handed_over() -> None:
    broker = Broker()
    message = Message(
        [Record(b'{"n": 1}', 0), Record(b"{not json", 1), Record(b'{"n": "x"}', 2), Record(b'{"n": 4}', 3)]
    )
    assert await parsed(_parse)(message) == [1, 4]
    await dead_letter_rejected(broker, message)
    assert [(topic, letter["offset"]) for topic, letter in broker.sent] == [("t.v1.dlq", 1), ("t.v1.dlq", 2)]
    assert "not a number" in broker.sent[1][1]["reason"]
    await dead_letter_rejected(broker, message)  # the batch retried after a store outage: sent once only
    assert len(broker.sent) == 2


async def test_a_batch_that_fails_is_handled_one_by_one_and_only_the_failing_message_is_dead_lettered() -> None:
    broker = Broker()
    message = Message([Record(json.dumps({"n": n}).encode(), n) for n in range(5)])
    items = await parsed(_parse)(message)
    handled: list[int] = []

    async def handle(batch: list[int]) -> None:
        if 3 in batch:
            raise RuntimeError("student 3 cannot be stored")
        handled.extend(batch)

    await handle_batch(broker, message, items, handle, backoff=0.0)
    assert handled == [0, 1, 2, 4]
    assert [letter["offset"] for _, letter in broker.sent] == [3]
    assert broker.sent[0][1]["attempts"] == 3 and "cannot be stored" in broker.sent[0][1]["reason"]


async def test_a_batch_of_one_that_fails_is_left_to_the_dead_letter_middleware() -> None:
    message = Message([Record(b'{"n": 1}', 0)])
    items = await parsed(_parse)(message)

    async def handle(batch: list[int]) -> None:
        raise RuntimeError("down")

    with pytest.raises(RuntimeError):
        await handle_batch(Broker(), message, items, handle, backoff=0.0)


async def test_a_batch_handler_hands_the_parsed_batch_to_the_method_of_its_context_object() -> None:
    from faststream.kafka import KafkaBroker, TestKafkaBroker
    from pydantic import BaseModel

    from xueji_kit.batches import batch_handler

    class Item(BaseModel):
        n: int

    class Service:
        def __init__(self) -> None:
            self.batches: list[list[Item]] = []

        async def take(self, items: list[Item]) -> None:
            self.batches.append(items)

    broker, service = KafkaBroker(), Service()
    broker.context.set_global("service", service)
    handler = batch_handler(Item, "service", Service.take, name="on_items")
    broker.subscriber("items.v1", batch=True, decoder=parsed(Item.model_validate_json))(handler)
    async with TestKafkaBroker(broker) as test:
        await test.publish_batch({"n": 1}, {"n": 2}, topic="items.v1")
    assert service.batches == [[Item(n=1), Item(n=2)]]
    assert handler.__name__ == "on_items"


def _verdict(**envelope: Any) -> bytes:
    from datetime import UTC, datetime

    from xueji_contracts.envelope import envelop
    from xueji_contracts.messages.dedupe import VerdictGiven

    payload = VerdictGiven(verdict="unique", student_id="stu_1", score=0.1, reason_zh="无", reason_en="none")
    message = envelop(payload, producer="t", province="35", occurred_at=datetime.now(UTC)).model_dump(mode="json")
    return json.dumps(message | envelope).encode()


async def test_a_current_message_is_read_once_and_the_contract_policy_still_judges_every_other(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 19: judging each message and walking it for unknown fields before parsing it was most of a batch's
    decoding; a message the consumer's contracts describe as it is needs neither. Any other gets both, as before."""
    from xueji_contracts.envelope import Envelope
    from xueji_contracts.messages.dedupe import VerdictGiven
    from xueji_kit import batches

    consulted: list[bytes] = []
    judge = batches.judge
    monkeypatch.setattr(batches, "judge", lambda raw, **kw: consulted.append(raw) or judge(raw, **kw))
    current, newer = _verdict(), json.loads(_verdict())
    newer["payload"]["new_field"] = 1
    later_major, unknown_type = _verdict(schema_version=2), _verdict(type="FromTheFuture")
    records = [Record(raw, i) for i, raw in enumerate([current, json.dumps(newer).encode(), later_major,
                                                        unknown_type, b"{not json"])]  # fmt: skip
    message = Message(records)
    items = await parsed(Envelope[VerdictGiven].model_validate_json)(message)
    assert [i.payload.student_id for i in items] == ["stu_1", "stu_1"]  # the current one and the newer one, read
    assert [r.offset for r in message.parsed_records] == [0, 1]
    assert [(r.offset, type(e).__name__) for r, e in message.rejected] == [
        (2, "UnsupportedSchemaVersion"), (4, "ValidationError")]  # fmt: skip
    assert current not in consulted and len(consulted) == 4  # every one but the current one was judged
