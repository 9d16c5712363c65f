"""What the operator commands answer when the engineer on call gets something wrong or there is nothing to do: a
mistyped topic, service or id, an empty parking. Each answer says what happened and what to do next, and a command
that did nothing exits non-zero when the engineer asked for something that is not there. Found executing
docs/operations.md: before, each of these printed nothing and exited 0 (the mistyped topic after waiting 30 s)."""

from __future__ import annotations

import time

import pytest

from xueji_contracts.topics import STUDENT_STATUS, dlq

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


async def test_a_mistyped_dead_letter_topic_is_named_at_once(isolation, operator):
    typo = isolation.topic("student.status.v1.dql")
    started = time.monotonic()
    ran = await operator(isolation.database, "xueji_kit.dlq", "replay", "--topic", typo, "--dry-run")
    assert ran.returncode == 2, (ran.stdout, ran.stderr)
    assert time.monotonic() - started < 20
    assert f"no topic {typo}" in ran.stderr and "<topic>.dlq" in ran.stderr


async def test_a_replay_with_nothing_to_replay_says_so(isolation, operator):
    topic = dlq(isolation.topic(STUDENT_STATUS.name))
    ran = await operator(isolation.database, "xueji_kit.dlq", "replay", "--topic", topic, "--group", "xueji-ops-dlq-r")
    assert ran.returncode == 0, ran.stderr
    assert f"nothing to replay on {topic}" in ran.stdout
    assert "xueji-ops-dlq-r" in ran.stdout  # a group that replayed everything before looks the same: it is named


@pytest.mark.parametrize(
    ("module", "verb", "service", "what"),
    [
        ("xueji_kit.followups", "requeue", "registry", "parked follow-up"),
        ("xueji_kit.failed_timers", "refire", "transfer", "failed timer"),
    ],
)
async def test_an_id_that_is_not_parked_is_named_and_nothing_is_done(isolation, operator, module, verb, service, what):
    database = f"{isolation.database}_{service}"
    empty = await operator(database, module, "list", "--service", service)
    assert empty.returncode == 0, empty.stderr
    assert f"no {what}s in {database}" in empty.stdout  # the engineer sees which database was read

    ran = await operator(database, module, verb, "--service", service, "--id", "no-such-id")
    assert ran.returncode == 1, (ran.stdout, ran.stderr)
    assert f"no {what} no-such-id in {database}" in ran.stderr
    assert f"python -m {module} list --service {service}" in ran.stderr


@pytest.mark.parametrize("module", ["xueji_kit.followups", "xueji_kit.failed_timers"])
async def test_a_mistyped_service_is_refused_naming_the_services(isolation, operator, module):
    ran = await operator(isolation.database, module, "list", "--service", "registy")
    assert ran.returncode == 2
    assert "invalid choice: 'registy'" in ran.stderr and "registry" in ran.stderr


async def test_a_webhook_replay_that_finds_no_letter_says_so(isolation, operator):
    from xueji_contracts.topics import NOTIFY_WEBHOOK_DLQ

    topic = isolation.topic(NOTIFY_WEBHOOK_DLQ.name)
    ran = await operator(f"{isolation.database}_notify", "xueji_notify.webhook_dlq", "replay", "--hook", "wh_nope")
    assert ran.returncode == 0, ran.stderr
    assert f"no dead-lettered delivery of wh_nope on {topic}" in ran.stdout


async def test_a_mistyped_replay_target_is_named_at_once_and_nothing_is_marked(isolation, operator):
    import base64
    import hashlib
    import json

    from aiokafka import AIOKafkaProducer

    topic = isolation.topic(STUDENT_STATUS.name)
    value = b'{"not": "an envelope"}'
    letter = {
        "original_topic": topic, "partition": 0, "offset": 7, "key": "k", "key_base64": base64.b64encode(b"k").decode(),
        "consumer_group": "notify", "error_type": "RuntimeError", "reason": "bug", "attempts": 1, "headers": [],
        "value_base64": base64.b64encode(value).decode(), "size": len(value),
        "sha256": hashlib.sha256(value).hexdigest(), "body": value.decode(), "part": 0, "parts": 1,
    }  # fmt: skip
    producer = AIOKafkaProducer(bootstrap_servers=isolation.servers.kafka)
    await producer.start()
    try:
        await producer.send_and_wait(dlq(topic), json.dumps(letter).encode(), key=b"k")
    finally:
        await producer.stop()
    typo = isolation.topic("student.status.v1.dlq.v1")
    started = time.monotonic()
    argv = ["replay", "--topic", dlq(topic), "--to", typo, "--group", "xueji-ops-dlq-to"]
    ran = await operator(isolation.database, "xueji_kit.dlq", *argv)
    assert ran.returncode == 2, (ran.stdout, ran.stderr)
    assert time.monotonic() - started < 30
    assert f"no topic {typo}" in ran.stderr
    again = await operator(isolation.database, "xueji_kit.dlq", "replay", "--topic", dlq(topic), "--group",
                           "xueji-ops-dlq-to", "--dry-run")  # fmt: skip
    assert f"would replay {topic}[0]@7" in again.stdout, "the failed replay marked nothing for its group"
