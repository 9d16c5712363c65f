"""The tests' reader of a topic (tests/support/kafka_messages.py): what it answers is the whole topic as it was once
the condition held, so a message missing from it was not on the topic."""

from __future__ import annotations

import json

import pytest
from kafka_messages import published, sent_together

from xueji_contracts.topics import TRANSFER_SLA

pytestmark = pytest.mark.integration


async def test_published_reads_on_to_the_end_of_the_topic_once_its_condition_holds(isolation):
    kafka, topic = isolation.servers.kafka, isolation.topic(TRANSFER_SLA.name)
    await sent_together(kafka, topic, [json.dumps({"n": n}).encode() for n in range(5)])
    # Holds before anything is read, and after the first message: the rest of the topic is read all the same.
    assert [m["n"] for m in await published(kafka, topic, lambda found: True)] == list(range(5))
    assert [m["n"] for m in await published(kafka, topic, lambda found: len(found) >= 1)] == list(range(5))
