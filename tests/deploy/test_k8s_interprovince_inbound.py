"""What crosses provinces in Kubernetes actually arrives (R34): each province's transfer and registry read the
topics the national hub's MirrorMaker 2 writes for every other province, may read exactly those, can dead-letter a
bad message from them, and a status file (personal data) reaches only the province it is addressed to (R52)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from deploy_facts import INBOUND, PROVINCE_OVERLAYS, Built
from test_k8s_topics import acl_operations

from xueji_contracts.topics import dlq


def _env(build: Built, deployment: str) -> dict[str, str]:
    (container,) = build.named("Deployment", deployment)["spec"]["template"]["spec"]["containers"]
    return {v["name"]: v.get("value", "") for v in container.get("env", [])}


def _readable(build: Built, user: str, topic: str) -> bool:
    for acl in build.named("KafkaUser", user)["spec"]["authorization"]["acls"]:
        resource = acl["resource"]
        if resource["type"] != "topic" or "Read" not in acl["operations"]:
            continue
        if resource["patternType"] == "literal" and resource["name"] == topic:
            return True
        if resource["patternType"] == "prefix" and topic.startswith(resource["name"]):
            return True
    return False


@pytest.mark.parametrize("province", sorted(PROVINCE_OVERLAYS))
@pytest.mark.parametrize("service", sorted(INBOUND))
def test_r34_each_province_reads_what_the_hub_mirrors_from_every_other_one(
    built: dict[str, Built], province: str, service: str
) -> None:
    variable, name = INBOUND[service]
    build = built[f"provinces/{province}"]
    topics = json.loads(_env(build, service)[variable])
    others = sorted(p for p in PROVINCE_OVERLAYS if p != province)
    assert topics == [f"national.{p}.interprovince.{name}.v1" for p in others]
    for topic in topics:
        assert _readable(build, f"xueji-{service}", topic), f"{service} in {province} may not read {topic}"
    assert not _readable(build, f"xueji-{service}", f"national.{province}.interprovince.{name}.v1")


@pytest.mark.parametrize("province", sorted(PROVINCE_OVERLAYS))
@pytest.mark.parametrize("service", sorted(INBOUND))
def test_r34_a_bad_message_from_another_province_is_dead_lettered_not_retried_forever(
    built: dict[str, Built], province: str, service: str
) -> None:
    """The kit dead-letters to `<consumed topic>.dlq`; auto-create is off, so without its KafkaTopic and ACL the
    letter is refused and the consumer rereads the message for ever, stalling that province's traffic behind it.
    A replay goes back to the mirrored topic (the service reads nothing else from that province; the local
    interprovince.* topic is outbound, mirrored on to the others): xueji-ops-dlq writes it, the service does not."""
    variable, name = INBOUND[service]
    build = built[f"provinces/{province}"]
    kafka_topics = {t["spec"]["topicName"]: t for t in build.of_kind("KafkaTopic")}
    local = kafka_topics[dlq(f"interprovince.{name}.v1")]  # sized like the letters of the topic it mirrors
    ops, user = build.named("KafkaUser", "xueji-ops-dlq"), build.named("KafkaUser", f"xueji-{service}")
    for topic in json.loads(_env(build, service)[variable]):
        letters = dlq(topic)
        assert letters in kafka_topics, f"{province}: no KafkaTopic {letters}"
        assert kafka_topics[letters]["spec"] == local["spec"] | {"topicName": letters}
        assert kafka_topics[letters]["metadata"]["name"] == letters.replace(".", "-")
        assert acl_operations(user, letters) == {"Describe", "Write"}, f"{service} in {province}: {letters}"
        assert acl_operations(ops, letters) == {"Describe", "Read"}, f"xueji-ops-dlq in {province}: {letters}"
        assert acl_operations(ops, topic) == {"Describe", "Write"}, f"xueji-ops-dlq in {province}: replay to {topic}"
        assert "Write" not in acl_operations(user, topic)


def _back_mirror(built: dict[str, Built], province: str) -> dict[str, Any]:
    (mirror,) = built["national"].named("KafkaMirrorMaker2", f"xueji-to-{province}")["spec"]["mirrors"]
    return dict(mirror)


@pytest.mark.parametrize("province", sorted(PROVINCE_OVERLAYS))
def test_r52_a_status_file_reaches_only_the_province_it_is_addressed_to(built: dict[str, Built], province: str):
    mirror = _back_mirror(built, province)
    config = mirror["sourceConnector"]["config"]
    for other in PROVINCE_OVERLAYS:
        if other != province:  # the topics the inbound settings name are the ones this mirror writes
            assert re.fullmatch(mirror["topicsPattern"], f"{other}.interprovince.file.v1")
    assert config["transforms"] == "markAddressed,keepOurs,dropOthers"
    assert config["predicates.forThisProvince.name"] == f"xueji-province-{PROVINCE_OVERLAYS[province]}"
    addressed = config["predicates.isAddressed.pattern"]
    assert re.fullmatch(addressed, "hn.interprovince.file.v1")
    assert re.fullmatch(addressed, "national.dedupe.national.verdict.v1")  # the national tier's answers too
    assert not re.fullmatch(addressed, "hn.interprovince.transfer.v1")
    assert config["transforms.dropOthers.type"].endswith(".Filter")
    assert config["transforms.dropOthers.predicate"] == "stillAddressed"


def test_r03_r10_the_national_tier_reads_every_provinces_mirrored_identities_and_checks(built: dict[str, Built]):
    build = built["national"]
    (container,) = build.named("Deployment", "dedupe")["spec"]["template"]["spec"]["containers"]
    config = next(
        c
        for c in build.of_kind("ConfigMap")
        if c["metadata"]["name"] == container["envFrom"][0]["configMapRef"]["name"]
    )
    env = config["data"]
    for variable, topic in (("XUEJI_IDENTITY_TOPICS", "identity"), ("XUEJI_CHECK_TOPICS", "check")):
        topics = json.loads(env[variable])
        assert topics == [f"{p}.dedupe.national.{topic}.v1" for p in sorted(PROVINCE_OVERLAYS)]
        assert all(_readable(build, "xueji-dedupe", t) for t in topics)
    for province in PROVINCE_OVERLAYS:
        province_build = built[f"provinces/{province}"]
        verdicts = json.loads(_env(province_build, "dedupe")["XUEJI_NATIONAL_VERDICT_TOPICS"])
        assert verdicts == ["national.dedupe.national.verdict.v1"]
        assert _readable(province_build, "xueji-dedupe", verdicts[0])
