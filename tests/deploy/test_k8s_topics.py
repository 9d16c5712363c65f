"""Kafka on Kubernetes against the contracts: KafkaTopics, and KafkaUser ACLs against what each service's code uses."""

from __future__ import annotations

import re

import pytest
from deploy_facts import OVERLAYS, ROOT, SERVICES, Built, load_script, mirrored_in

from xueji_contracts import topics as contract_topics
from xueji_contracts.topics import ALL_TOPICS, all_topic_names, dlq

gen = load_script("gen_k8s_topics")


def test_generated_manifests_are_fresh() -> None:
    stale = [p for p, text in gen.render().items() if not p.exists() or p.read_text() != text]
    assert not stale, f"stale: {stale}; run `uv run python scripts/gen_k8s_topics.py`"


def topic_prefix(build: Built) -> str:
    return str(build.config_map("xueji-config")["data"].get("XUEJI_TOPIC_PREFIX", ""))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kafka_topics_are_the_contract_topics(built: dict[str, Built], overlay: str) -> None:
    build = built[overlay]
    prefix = topic_prefix(build)
    names = sorted(t["spec"]["topicName"] for t in build.of_kind("KafkaTopic"))
    # MirrorMaker creates the topics it mirrors in; the letters of those a service reads are ours to create.
    inbound_letters = [dlq(topic) for _, topic, _ in mirrored_in(build)]
    assert names == sorted([prefix + n for n in all_topic_names()] + inbound_letters)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kafka_topics_take_partitions_and_retention_from_the_contracts(built: dict[str, Built], overlay: str) -> None:
    build = built[overlay]
    specs = {t.name: t for t in ALL_TOPICS}
    (kafka,) = build.of_kind("Kafka")
    brokers = sum(p["spec"]["replicas"] for p in build.of_kind("KafkaNodePool") if "broker" in p["spec"]["roles"])
    for topic in build.of_kind("KafkaTopic"):
        name = topic["spec"]["topicName"].removeprefix(topic_prefix(build))
        mirrored = {dlq(topic): dlq(ours) for _, topic, ours in mirrored_in(build)}.get(name, name)
        source = specs.get(mirrored) or specs[mirrored.removesuffix(".dlq")]
        assert topic["spec"]["partitions"] == source.partitions, name
        assert topic["spec"]["config"]["retention.ms"] == source.retention_ms, name
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
        assert topic["spec"]["config"]["min.insync.replicas"] < topic["spec"]["replicas"] <= brokers


def topics_named_in_code(service: str) -> set[str]:
    """Topic names a service's source takes from xueji_contracts.topics (its constants, e.g. STUDENT_STATUS)."""
    names = set()
    for path in (ROOT / "services" / service / "src").rglob("*.py"):
        text = path.read_text()
        for block in re.findall(r"from xueji_contracts\.topics import \(?([\w\s,]+)\)?", text):
            for constant in re.findall(r"\w+", block):
                value = getattr(contract_topics, constant, None)
                if isinstance(value, contract_topics.TopicSpec):
                    names.add(value.name)
        names |= {n for n in all_topic_names() if f'"{n}"' in text}
    return names


@pytest.mark.parametrize("service", SERVICES)
def test_acl_table_covers_every_topic_the_code_uses(service: str) -> None:
    access = gen.ACCESS[service]
    uncovered = topics_named_in_code(service) - set(access["read"]) - set(access["write"])
    assert not uncovered, f"{service} uses {sorted(uncovered)}: add them to ACCESS in scripts/gen_k8s_topics.py"
    assert set(access["read"]) | set(access["write"]) <= set(all_topic_names())


@pytest.mark.parametrize("service", SERVICES)
def test_consumer_groups_fall_under_the_group_acl(service: str) -> None:
    for path in (ROOT / "services" / service / "src").rglob("*.py"):
        for group in re.findall(r"\.group\(\s*[\"']([^\"']+)[\"']", path.read_text()):
            assert group.startswith(service), f"{path.name}: consumer group {group!r} must start with {service!r}"


def acl_operations(user: dict[str, object], topic: str) -> set[str]:
    ops: set[str] = set()
    for acl in user["spec"]["authorization"]["acls"]:  # type: ignore[index]
        resource = acl["resource"]
        if resource["type"] != "topic":
            continue
        literal = resource["patternType"] == "literal" and resource["name"] == topic
        if literal or (resource["patternType"] == "prefix" and topic.startswith(resource["name"])):
            ops |= set(acl["operations"])
    return ops


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_service_has_a_kafka_user_with_just_its_topics(built: dict[str, Built], overlay: str) -> None:
    build = built[overlay]
    deployments = [d["metadata"]["name"] for d in build.of_kind("Deployment")]
    people_and_mirrors = {"xueji-ops", "xueji-ops-dlq", "xueji-mirror", "xueji-national-mirror"}
    users = {u["metadata"]["name"] for u in build.of_kind("KafkaUser")}
    # R52: other systems' identities (tests/deploy/test_k8s_subscribers.py) are not services
    service_users = {u for u in users if not u.startswith("subscriber-")} - people_and_mirrors
    assert service_users == {f"xueji-{s}" for s in deployments}
    for service in deployments:
        user = build.named("KafkaUser", f"xueji-{service}")
        access = gen.ACCESS[service]
        for topic in all_topic_names():
            ops = acl_operations(user, topic)
            reads = topic in access["read"]
            writes = topic in access["write"] or any(topic == dlq(t) for t in access["read"])
            assert ("Read" in ops) == reads, f"{service} {topic}: Read {'missing' if reads else 'not needed'}"
            assert ("Write" in ops) == writes, f"{service} {topic}: Write {'missing' if writes else 'not needed'}"
        env = {
            v["name"]: v for v in build.named("Deployment", service)["spec"]["template"]["spec"]["containers"][0]["env"]
        }
        assert env["XUEJI_KAFKA_SASL_USERNAME"]["value"] == f"xueji-{service}"
        assert env["XUEJI_KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == f"xueji-{service}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kafka_runs_in_kraft_mode_with_node_pools(built: dict[str, Built], overlay: str) -> None:
    build = built[overlay]
    (kafka,) = build.of_kind("Kafka")
    assert kafka["metadata"]["annotations"] == {"strimzi.io/node-pools": "enabled", "strimzi.io/kraft": "enabled"}
    assert re.fullmatch(r"4\.\d+\.\d+", kafka["spec"]["kafka"]["version"])
    roles = {role for pool in build.of_kind("KafkaNodePool") for role in pool["spec"]["roles"]}
    assert roles == {"controller", "broker"}
    controllers = sum(
        p["spec"]["replicas"] for p in build.of_kind("KafkaNodePool") if "controller" in p["spec"]["roles"]
    )
    assert controllers % 2 == 1, "a KRaft quorum needs an odd number of controllers"
    assert kafka["spec"]["kafka"]["authorization"]["type"] == "simple"
    for listener in kafka["spec"]["kafka"]["listeners"]:
        assert listener["tls"] and listener["authentication"]["type"] == "scram-sha-512", listener["name"]
    bootstrap = build.config_map("xueji-config")["data"]["KAFKA_BOOTSTRAP_SERVERS"]
    tls = next(listener for listener in kafka["spec"]["kafka"]["listeners"] if listener["name"] == "tls")
    assert bootstrap == f"{kafka['metadata']['name']}-kafka-bootstrap:{tls['port']}"
