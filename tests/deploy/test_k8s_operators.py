"""The operators' commands have an identity and a place to run on Kubernetes (docs/operations.md, "Running the
operator commands"): the KafkaUser xueji-ops-dlq reads the dead-letter topics and writes the topics a replay
publishes to, nothing more, and the suspended CronJob ops-cli is the pod template they run in, as that identity,
with notify's MongoDB user where notify runs (webhook deliveries are notify's), and confined like the services.
People with Kafka's own tools are xueji-ops ("The ops client"): they read our topics and move the services'
consumer groups, and write nothing."""

from __future__ import annotations

from typing import Any

import pytest
from deploy_facts import OVERLAYS, PROVINCE_OVERLAYS, Built, load_script, mirrored_in
from test_k8s_network import NEEDS_OUT, admitted, universe
from test_k8s_topics import acl_operations

from xueji_contracts.topics import all_topic_names

USER = "xueji-ops-dlq"
GROUP_PREFIX = "xueji-ops-dlq"
PROVINCES = [f"provinces/{code}" for code in PROVINCE_OVERLAYS]
OPS = "xueji-ops"
gen = load_script("gen_k8s_topics")


def dead_letter_topics() -> list[str]:
    return [t for t in all_topic_names() if t.endswith(".dlq")]


def replayed_into() -> set[str]:
    """The topics `python -m xueji_kit.dlq replay` publishes to: each `<topic>.dlq`'s `<topic>`."""
    return {t.removesuffix(".dlq") for t in dead_letter_topics()} & set(all_topic_names())


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_dlq_operator_reads_dead_letters_and_writes_only_their_topics(built: dict[str, Built], overlay: str) -> None:
    user = built[overlay].named("KafkaUser", USER)
    for topic in all_topic_names():
        ops = acl_operations(user, topic)
        reads, writes = topic.endswith(".dlq"), topic in replayed_into()
        assert ("Read" in ops) == reads, f"{topic}: Read {'missing' if reads else 'not needed'}"
        assert ("Write" in ops) == writes, f"{topic}: Write {'missing' if writes else 'not needed'}"
        assert ("Describe" in ops) == (reads or writes), topic
    acls = user["spec"]["authorization"]["acls"]
    for acl in acls:
        resource = acl["resource"]
        assert resource["type"] in ("topic", "group"), f"{resource}: no cluster or transactional rights"
        assert resource["name"] not in ("*", ""), f"{resource}: a wildcard"
        if resource["type"] == "topic":
            assert resource["patternType"] == "literal", f"{resource}: every topic by its name"
            assert set(acl["operations"]) <= {"Describe", "Read", "Write"}, acl
    groups = [a for a in acls if a["resource"]["type"] == "group"]
    assert groups == [
        {
            "resource": {"type": "group", "name": GROUP_PREFIX, "patternType": "prefix"},
            "operations": ["Describe", "Read"],
        }
    ], "its own consumer groups (`--group xueji-ops-dlq-...`) and no service's"


def ops_cli(build: Built) -> dict[str, Any]:
    cron = build.named("CronJob", "ops-cli")
    assert cron["spec"]["suspend"] is True, "a template only: a Job is created from it by hand"
    job = cron["spec"]["jobTemplate"]["spec"]
    assert job["backoffLimit"] == 0 and job["activeDeadlineSeconds"] <= 4 * 3600 and job["ttlSecondsAfterFinished"]
    return job["template"]


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in container.get("env", [])}


def home(build: Built) -> dict[str, Any]:
    """The Deployment whose image and store the operators' pod takes: notify where it runs (its webhook letters and
    deliveries), else (the national tier) dedupe, with no store."""
    names = {d["metadata"]["name"] for d in build.of_kind("Deployment")}
    return build.named("Deployment", "notify" if "notify" in names else "dedupe")["spec"]["template"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_operator_commands_run_as_the_dlq_operator(built: dict[str, Built], overlay: str) -> None:
    build = built[overlay]
    template, service = ops_cli(build), home(build)
    (container,) = template["spec"]["containers"]
    (service_container,) = service["spec"]["containers"]
    assert container["image"] == service_container["image"], "the image holding xueji_kit (and xueji_notify)"
    env = env_of(container)
    assert env["XUEJI_KAFKA_SASL_USERNAME"] == {"name": "XUEJI_KAFKA_SASL_USERNAME", "value": USER}
    assert env["XUEJI_KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": USER, "key": "password"}
    assert container["envFrom"] == service_container["envFrom"], "the services' shared environment (xueji-config)"
    labels = template["metadata"]["labels"]
    if overlay in PROVINCES:
        assert env["MONGODB_URI"] == env_of(service_container)["MONGODB_URI"], "notify's MongoDB user, its secret"
        assert labels["xueji.edu.cn/mongodb-client"] == "true"
    else:
        assert "MONGODB_URI" not in env and "xueji.edu.cn/mongodb-client" not in labels, "no store to reach"
    assert labels["xueji.edu.cn/kafka-client"] == "true"
    ca_file = build.config_map("xueji-config")["data"]["XUEJI_KAFKA_CA_FILE"]
    volumes = {v["name"]: v for v in template["spec"]["volumes"]}
    ca_mount = next(m for m in container["volumeMounts"] if ca_file.startswith(m["mountPath"] + "/"))
    kafka = build.of_kind("Kafka")[0]["metadata"]["name"]
    assert volumes[ca_mount["name"]]["secret"]["secretName"] == f"{kafka}-cluster-ca-cert"
    assert template["spec"]["restartPolicy"] == "Never"
    assert container["resources"]["limits"]["memory"]
    assert template["spec"]["serviceAccountName"] in {a["metadata"]["name"] for a in build.of_kind("ServiceAccount")}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_operator_pod_is_confined_like_the_services(built: dict[str, Built], overlay: str) -> None:
    build = built[overlay]
    template, service = ops_cli(build), home(build)
    assert template["spec"]["securityContext"] == service["spec"]["securityContext"]
    assert template["spec"]["automountServiceAccountToken"] is False
    (container,) = template["spec"]["containers"]
    assert container["securityContext"] == service["spec"]["containers"][0]["securityContext"]
    volumes = {v["name"]: v for v in template["spec"]["volumes"]}
    tmp = next(m for m in container["volumeMounts"] if m["mountPath"] == "/tmp")
    assert "emptyDir" in volumes[tmp["name"]], "a read-only root needs a writable /tmp"
    labels = template["metadata"]["labels"]
    namespace = build.of_kind("Deployment")[0]["metadata"]["namespace"]
    policies, everyone = build.of_kind("NetworkPolicy"), universe(build, namespace)
    # On the national tier the pod has no MongoDB user (test_operator_commands_run_as_the_dlq_operator): no way there.
    needs = NEEDS_OUT if overlay in PROVINCES else {n for n in NEEDS_OUT if n[0] != "mongodb"}
    assert admitted(policies, labels, everyone, "egress") == needs, "DNS, the Kafka brokers and (notify's) MongoDB"
    assert admitted(policies, labels, everyone, "ingress") == set(), "nothing reaches it"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_ops_user_reads_our_topics_and_writes_none(built: dict[str, Built], overlay: str) -> None:
    """The ops client: reading a topic (a dead-letter topic's letters with the console consumer) and resetting a
    service's group on a topic it reads (OffsetCommit needs Read on the topic) need Read on each of our topics and
    on what MirrorMaker writes that a service reads; each by its name, never `*` or a prefix (MirrorMaker's and
    the brokers' own topics are not ours). A replay is xueji-ops-dlq's: this user writes no topic."""
    build = built[overlay]
    acls = build.named("KafkaUser", OPS)["spec"]["authorization"]["acls"]
    for acl in acls:
        assert acl["resource"]["type"] in ("topic", "group"), f"{acl['resource']}: no cluster or transactional rights"
        assert acl["resource"]["name"] not in ("*", ""), f"{acl['resource']}: a wildcard"
    topics = [a for a in acls if a["resource"]["type"] == "topic"]
    assert all(a["resource"]["patternType"] == "literal" for a in topics), "every topic by its name"
    assert all(a["operations"] == ["Describe", "Read"] for a in topics), "it reads; it never writes or configures"
    ours = {t["spec"]["topicName"] for t in build.of_kind("KafkaTopic")} | {t for _, t, _ in mirrored_in(build)}
    assert sorted(a["resource"]["name"] for a in topics) == sorted(ours)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_ops_user_moves_the_services_groups_and_deletes_none(built: dict[str, Built], overlay: str) -> None:
    """Resetting a service's group (a projection's replay) needs Read on it, reading the lag Describe; the
    subscribers' groups are only seen (an old topic version is retired when no one reads it). Its own groups: the
    console consumer's throwaway `console-consumer-<n>` and `xueji-ops-drain`. No Delete, no other group (not
    xueji-ops-dlq's replay marks, not MirrorMaker's)."""
    acls = built[overlay].named("KafkaUser", OPS)["spec"]["authorization"]["acls"]
    groups = {
        a["resource"]["name"]: (a["resource"]["patternType"], a["operations"])
        for a in acls
        if a["resource"]["type"] == "group"
    }
    move = ("prefix", ["Describe", "Read"])
    expected = {service: move for service in gen.ACCESS}
    expected |= {name: ("prefix", ["Describe"]) for name in gen.subscriber_names()}
    expected |= {"console-consumer-": move, "xueji-ops-drain": move}
    assert groups == expected
