"""Test fixtures shared by every test directory: the real Kafka broker and MongoDB-wire store.

Where the servers come from, in order: KAFKA_BOOTSTRAP_SERVERS and MONGODB_URI from the
environment; testcontainers' Kafka and MongoDB where a Docker engine answers; otherwise the
native local stack (deploy/local/localstack), started once for the session and stopped after it.
Each test gets its own topic prefix and database name, so tests run in any order.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "deploy" / "local" / "localstack"))
sys.path.insert(0, str(ROOT / "tests" / "support"))  # helpers every service's tests share (kafka_messages)
sys.path.append(str(ROOT))  # bench: the labelled generators (bench.synthetic and the others) tests share with it

import ast_guard  # noqa: E402

ast_guard.install()  # hypothesis in a worker thread and tracebacks on the loop both parse source (gh-106905)


@dataclass(frozen=True)
class ServerAddresses:
    kafka: str
    mongodb: str


def _docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerAddresses]:
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS") and os.environ.get("MONGODB_URI"):
        yield ServerAddresses(os.environ["KAFKA_BOOTSTRAP_SERVERS"], os.environ["MONGODB_URI"])
        return
    if _docker_answers():
        from testcontainers.kafka import KafkaContainer
        from testcontainers.mongodb import MongoDbContainer

        with KafkaContainer("apache/kafka:4.1.1").with_kraft() as kafka, MongoDbContainer("mongo:8") as mongo:
            yield ServerAddresses(kafka.get_bootstrap_server(), mongo.get_connection_url())
        return
    from stack import start_servers

    local = start_servers(tmp_path_factory.mktemp("localstack"), fixed_ports=False)
    try:
        yield ServerAddresses(local.kafka.address, local.mongo.address)
    finally:
        local.stop()


@dataclass(frozen=True)
class Isolation:
    """One test's private corner of the shared servers."""

    topic_prefix: str
    database: str
    servers: ServerAddresses

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    def settings_env(self) -> dict[str, Any]:
        return {
            "kafka_bootstrap_servers": self.servers.kafka,
            "mongodb_uri": self.servers.mongodb,
            "topic_prefix": self.topic_prefix,
            "log_format": "console",
        }


@pytest.fixture
async def isolation(servers: ServerAddresses) -> AsyncIterator[Isolation]:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    from xueji_contracts.topics import ALL_TOPICS, all_topic_names

    tag = uuid.uuid4().hex[:10]
    iso = Isolation(f"t{tag}.", f"test_{tag}", servers)
    names = [iso.topic(n) for n in all_topic_names()]
    admin = AIOKafkaAdminClient(bootstrap_servers=servers.kafka)
    await admin.start()
    try:
        # One partition each: a broker keeps a file open per partition, and a whole run creates thousands.
        compacted = {iso.topic(t.name) for t in ALL_TOPICS if t.compacted}  # the status snapshot, as in production
        await admin.create_topics(
            [NewTopic(n, 1, 1, topic_configs={"cleanup.policy": "compact"} if n in compacted else {}) for n in names]
        )
    finally:
        await admin.close()
    yield iso
    # The test's apps have stopped (their fixtures end first): give the broker its files back.
    admin = AIOKafkaAdminClient(bootstrap_servers=servers.kafka)
    await admin.start()
    try:
        with contextlib.suppress(Exception):  # best effort: a leftover topic costs a file, not a failure
            mine = [t for t in await admin.list_topics() if t.startswith(iso.topic_prefix)]
            await admin.delete_topics(mine)
    finally:
        await admin.close()


@pytest.fixture
async def database(isolation: Isolation) -> AsyncIterator[Any]:
    """The test's own database on the real store (an AsyncDatabase), its client closed after the test."""
    from xueji_kit.store import connect

    client = connect(isolation.servers.mongodb)
    yield client[f"{isolation.database}_store"]
    await client.close()


@pytest.fixture
def status_recorded() -> Callable[..., Any]:
    """Makes the registry's student.status.v1 payload of an enrolled student (school 3506020001) for a test:
    `status_recorded(student_id="stu_1", grade=1)`."""
    from xueji_contracts.messages.status import StudentStatusRecorded

    def make(student_id: str = "stu_1", grade: int = 1) -> StudentStatusRecorded:
        return StudentStatusRecorded(
            student_id=student_id, school_code="3506020001", county_code="350602", state="enrolled",
            status_number_masked="G110105********002X", grade=grade, school_year=2026,
        )  # fmt: skip

    return make


@pytest.fixture(scope="session")
def signing_keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    from keys import ensure_keys

    private, public = ensure_keys(tmp_path_factory.mktemp("jwt"))
    return private.read_text(), public.read_text()


@pytest.fixture
def token(signing_keys: tuple[str, str]) -> Callable[[str, str], str]:
    """token(role, code) -> a signed operator token the services accept in tests."""
    from xueji_contracts.auth import OperatorClaims
    from xueji_kit.security import mint_token

    def make(role: str, code: str) -> str:
        return mint_token(
            signing_keys[0], OperatorClaims.model_validate({"sub": f"t-{role}", "role": role, "code": code})
        )

    return make


async def eventually(check: Callable[[], Any], timeout: float = 30.0, interval: float = 0.2) -> Any:
    """Poll an async or sync check until it returns something truthy; fail after `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)


@pytest.fixture
def wait_for() -> Callable[..., Any]:
    return eventually


Route = tuple[str, str, "str | None"]


async def _copy(bootstrap: str, source: str, target: str, province: str | None) -> None:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    consumer = AIOKafkaConsumer(source, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await consumer.start()
    await producer.start()
    try:
        while True:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                for record in records:
                    # As MirrorMaker 2's Filter transform with a HasHeaderKey predicate does in production.
                    if province is None or f"xueji-province-{province}" in dict(record.headers):
                        await producer.send_and_wait(target, record.value, key=record.key, headers=list(record.headers))
    finally:
        await consumer.stop()
        await producer.stop()


@pytest.fixture
def mirror(servers: ServerAddresses) -> Callable[..., Any]:
    """mirror((source, target, province | None), ...) -> an async context copying each source topic to its target,
    standing in for MirrorMaker 2 between clusters: with a province, only the records whose envelope names it
    (its `xueji-province-<code>` header) cross."""
    import contextlib

    @contextlib.asynccontextmanager
    async def running(*routes: Route) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(_copy(servers.kafka, *route)) for route in routes]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    return running


def _service_settings(isolation: Isolation, signing_keys: tuple[str, str], settings_cls: type, **overrides: Any) -> Any:
    """The service's settings for a test: its own topics and database on the test servers, its signing key."""
    return settings_cls(
        **{
            **isolation.settings_env(),
            "mongodb_database": f"{isolation.database}_{settings_cls.__name__}",
            "jwt_public_key": signing_keys[1],
            "relay_interval_seconds": 0.05,
            **overrides,
        }
    )


@contextlib.asynccontextmanager
async def _serving(app: Any) -> AsyncIterator[Any]:
    """The app started (its lifespan: consumers, relay, timers) and an httpx client to it; stopped on leaving."""
    import httpx

    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://service") as c:
        c.app = app  # type: ignore[attr-defined]
        yield c


@pytest.fixture
async def start_app(isolation: Isolation, signing_keys: tuple[str, str]) -> AsyncIterator[Callable[..., Any]]:
    """start_app(create_app, SettingsClass, **overrides) -> an httpx client to the running service."""
    stack = contextlib.AsyncExitStack()

    async def start(create_app: Callable[..., Any], settings_cls: type, **overrides: Any) -> Any:
        settings = _service_settings(isolation, signing_keys, settings_cls, **overrides)
        return await stack.enter_async_context(_serving(create_app(settings)))

    try:
        yield start
    finally:
        await stack.aclose()


@pytest.fixture
def service_process(isolation: Isolation, signing_keys: tuple[str, str]) -> Callable[..., Any]:
    """service_process(create_app, SettingsClass, **overrides) -> an async context holding one process of the
    service (an httpx client to it): started on entering, stopped on leaving. Entered again, it is a restart on the
    same database and topics, as after a crash."""
    return lambda create_app, settings_cls, **overrides: _serving(
        create_app(_service_settings(isolation, signing_keys, settings_cls, **overrides))
    )
