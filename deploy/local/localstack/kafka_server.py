"""A single-node Apache Kafka 4.x broker in KRaft combined mode, from jars resolved by Maven."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import uuid
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from common import ROOT, Server, StackError, die_with_parent, require_free, require_tool, run_quiet, wait_until

T = TypeVar("T")
KAFKA_DIR = ROOT / "deploy" / "local" / "kafka"
JARS = KAFKA_DIR / "target" / "dependency"
LOG4J = """status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stdout.ref = STDOUT
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = INFO
"""


def install() -> None:
    """Resolve the broker's jars from Maven Central once; later calls are a cheap check."""
    if any(JARS.glob("kafka_2.13-*.jar")):
        return
    require_tool("java", "install a Java 17+ runtime (e.g. apt-get install openjdk-17-jre-headless)")
    mvn = require_tool("mvn", "install Apache Maven (e.g. apt-get install maven)")
    print("local stack: resolving Apache Kafka jars with Maven (first run only) ...", flush=True)
    run_quiet([mvn, "-q", "-B", "dependency:copy-dependencies"], KAFKA_DIR, "resolving Kafka with Maven")


def _properties(data: Path, port: int, controller_port: int, advertised_port: int) -> str:
    return f"""process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:{controller_port}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:{advertised_port},CONTROLLER://127.0.0.1:{controller_port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs={data / "logs"}
num.partitions=3
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.cleaner.dedupe.buffer.size=33554432
"""


def start(
    data: Path, port: int, controller_port: int, timeout: float = 90.0, advertised_port: int | None = None
) -> Server:
    """Format storage on first use, start the broker, return once metadata answers. `advertised_port`: the port
    clients are told to use, when a proxy in front of the broker listens there (fault tests); its address is then
    the returned server's."""
    install()
    java = require_tool("java", "install a Java 17+ runtime")
    require_free(port, "the Kafka broker", "XUEJI_KAFKA_PORT")
    require_free(controller_port, "the Kafka controller", "XUEJI_KAFKA_CONTROLLER_PORT")
    data.mkdir(parents=True, exist_ok=True)
    config = data / "server.properties"
    config.write_text(_properties(data, port, controller_port, advertised_port or port))
    (data / "log4j2.properties").write_text(LOG4J)
    classpath = f"{JARS}/*"
    log4j = f"-Dlog4j2.configurationFile={data / 'log4j2.properties'}"
    meta = data / "logs" / "meta.properties"
    if not meta.exists():
        run_quiet(
            [
                java,
                "-cp",
                classpath,
                log4j,
                "kafka.tools.StorageTool",
                "format",
                "--standalone",
                "-t",
                _cluster_id(),
                "-c",
                str(config),
            ],
            ROOT,
            f"formatting Kafka storage in {data}",
        )
    log_path = data / "kafka.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                java,
                "-Xms256m",
                "-Xmx768m",
                "-XX:+UseG1GC",
                "-Djava.awt.headless=true",
                log4j,
                "-cp",
                classpath,
                "kafka.Kafka",
                str(config),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=data,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
    server = Server("kafka", process, f"127.0.0.1:{advertised_port or port}", log_path)
    wait_until(lambda: _metadata_answers(server.address), server, timeout, "Kafka")
    return server


def _cluster_id() -> str:
    # Kafka cluster ids are 16 random bytes in URL-safe base64 without padding. One in 64 starts with "-", which the
    # storage tool reads as an option ("-t -x..."), failing the format: draw again until it does not.
    import base64

    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def _run_async(work: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on its own loop, also when the caller is inside one (benchmarks)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, work).result()


def _metadata_answers(bootstrap: str) -> bool:
    from aiokafka.admin import AIOKafkaAdminClient

    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # "connection refused" is expected while starting

    async def probe() -> bool:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
        try:
            await admin.start()
            await admin.list_topics()
            return True
        finally:
            await admin.close()

    return _run_async(probe())


def create_topics(bootstrap: str, names: list[str], partitions: int = 3) -> None:
    """Create any missing topics (replication factor 1 on the local broker); the contracts' compacted topics (the
    public status snapshot) are created compacted, as in production."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    from xueji_contracts.topics import ALL_TOPICS

    compacted = {t.name for t in ALL_TOPICS if t.compacted}

    def topic(name: str) -> NewTopic:
        configs = {"cleanup.policy": "compact"} if any(name.endswith(c) for c in compacted) else {}
        return NewTopic(name, partitions, 1, topic_configs=configs)

    async def create() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            missing = [topic(n) for n in names if n not in existing]
            if missing:
                await admin.create_topics(missing)
        finally:
            await admin.close()

    try:
        _run_async(create())
    except Exception as exc:
        raise StackError(f"creating topics on {bootstrap} failed: {exc}") from exc
