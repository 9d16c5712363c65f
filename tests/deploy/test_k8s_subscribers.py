"""R52 on Kubernetes: each system the province policy registers as a status subscriber has its own Kafka identity
reading the public topics only, with its consent reference; an unregistered system is refused by the ACLs."""

from __future__ import annotations

from typing import Any

import pytest
from deploy_facts import OVERLAYS, PROVINCE_OVERLAYS, ROOT, Built, load_script

from xueji_contracts.policy import load_policy
from xueji_contracts.policy.subscribers import StatusSubscriber
from xueji_contracts.topics import all_topic_names, public_topic_names

POLICIES = ROOT / "contracts" / "src" / "xueji_contracts" / "policies"
gen = load_script("gen_k8s_topics")


def may(build: Built, user: str, operation: str, kind: str, name: str) -> bool:
    """Kafka's simple authorizer as Strimzi configures it: a super user may do anything; anyone else only what an
    ACL of their KafkaUser allows (no ACL found means refused: allow.everyone.if.no.acl.found is never set)."""
    (kafka,) = build.of_kind("Kafka")
    authorization = kafka["spec"]["kafka"]["authorization"]
    assert authorization["type"] == "simple"
    assert str(kafka["spec"]["kafka"].get("config", {}).get("allow.everyone.if.no.acl.found", "false")) == "false"
    if f"User:{user}" in authorization.get("superUsers", []) or user in authorization.get("superUsers", []):
        return True
    users = [u for u in build.of_kind("KafkaUser") if u["metadata"]["name"] == user]
    for acl in (a for u in users for a in u["spec"]["authorization"]["acls"]):
        resource = acl["resource"]
        if resource["type"] != kind or acl.get("type", "allow") != "allow":
            continue
        matches = name == resource["name"] or (
            resource["patternType"] == "prefix" and name.startswith(resource["name"])
        )
        if matches and (operation in acl["operations"] or "All" in acl["operations"]):
            return True
    return False


def _subscribers(overlay: str) -> tuple[Any, ...]:
    return load_policy(POLICIES / f"{overlay.removeprefix('provinces/')}.yaml").status_subscribers


@pytest.mark.parametrize("overlay", [f"provinces/{code}" for code in PROVINCE_OVERLAYS])
def test_r52_each_registered_subscriber_reads_the_public_topics_only(built: dict[str, Built], overlay: str) -> None:
    build = built[overlay]
    users = {
        u["metadata"]["name"]: u for u in build.of_kind("KafkaUser") if u["metadata"]["name"].startswith("subscriber-")
    }
    registered = _subscribers(overlay)
    assert set(users) == {f"subscriber-{s.name}" for s in registered}
    for subscriber in registered:
        user = f"subscriber-{subscriber.name}"
        annotations = users[user]["metadata"]["annotations"]
        assert annotations["xueji.edu.cn/consent-reference"] == subscriber.consent_reference
        assert annotations["xueji.edu.cn/consent-granted-by"] == subscriber.granted_by
        for topic in all_topic_names():
            assert may(build, user, "Read", "topic", topic) == (topic in public_topic_names()), (user, topic)
            assert not may(build, user, "Write", "topic", topic), (user, topic)
        assert may(build, user, "Read", "group", f"{subscriber.name}.status-copy")
        assert not may(build, user, "Read", "group", "registry.dedupe.verdict.v1")  # not a service's group


def test_r52_fujian_registers_its_subscribers_with_consent() -> None:
    assert {s.name for s in _subscribers("provinces/fj")} >= {"exam-registration"}
    assert public_topic_names() == ["student.status.v1", "student.status.snapshot.v1"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_r52_an_unregistered_subscriber_is_refused_by_the_acls(built: dict[str, Built], overlay: str) -> None:
    build = built[overlay]
    for stranger in ("subscriber-school-health", "school-health", "xueji-subscriber"):
        assert stranger not in {u["metadata"]["name"] for u in build.of_kind("KafkaUser")}
        for topic in all_topic_names():
            assert not may(build, stranger, "Read", "topic", topic), (stranger, topic)
            assert not may(build, stranger, "Describe", "topic", topic), (stranger, topic)


@pytest.mark.parametrize(
    "name", ["transfer", "tr", "notify-bridge", "registry2", "xueji", "xueji-ops-drain-audit", "console-consumer-x"]
)
def test_r52_a_subscriber_named_into_another_identitys_groups_is_refused(name: str) -> None:
    """A subscriber's ACL takes the consumer groups starting with its name (Kafka matches a group ACL by prefix). A
    name that begins another identity's groups (`tr`: transfer's `transfer.student_status`, which reads the public
    feed too) would let it join them and take their partitions; one that falls under them (`registry2`) would hand
    its groups to that identity. The generator refuses both, naming the field and the owner."""
    subscriber = StatusSubscriber(name=name, title="t", consent_reference="c", granted_by="350000")
    with pytest.raises(ValueError, match=rf"status_subscribers\.name {name!r}.*consumer groups"):
        gen.subscriber_user(subscriber)


def test_r52_the_registered_subscribers_own_their_groups() -> None:
    for name in gen.subscriber_names():
        gen.subscriber_user(StatusSubscriber(name=name, title="t", consent_reference="c", granted_by="350000"))
