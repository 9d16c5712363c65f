"""What crosses provinces in Kubernetes actually arrives (R34): each province's transfer and registry read the
topics the national hub's MirrorMaker 2 writes for every other province, may read exactly those, can dead-letter a
bad message from them, and a status file (personal data) reaches only the province it is addressed to (R52)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from deploy_facts import OVERLAYS, PROVINCE_OVERLAYS, Built, mirrored_in
from test_k8s_topics import acl_operations

from xueji_contracts.topics import dlq

INBOUND = {"transfer": ("XUEJI_INTERPROVINCE_INBOUND_TOPICS", "transfer"), "registry": ("XUEJI_INTERPROVINCE_FILE_TOPICS", "file")}  # fmt: skip


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


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_r34_a_bad_message_mirrored_in_is_dead_lettered_not_retried_forever(built: dict[str, Built], overlay: str):
    """The kit dead-letters to `<consumed topic>.dlq`; auto-create is off, so without its KafkaTopic and ACL the
    letter is refused and the consumer rereads the message for ever, stalling everything behind it from that
    province (or, for dedupe, the national checks). A replay goes back to the mirrored topic (the service reads
    nothing else from there; our own topic of that name is outbound, mirrored on to the others): xueji-ops-dlq
    writes it, the service does not."""
    build = built[overlay]
    kafka_topics = {t["spec"]["topicName"]: t for t in build.of_kind("KafkaTopic")}
    ops = build.named("KafkaUser", "xueji-ops-dlq")
    found = mirrored_in(build)
    assert found, f"{overlay}: its services read what the hub mirrors"
    for service, topic, ours in found:
        letters, user = dlq(topic), build.named("KafkaUser", f"xueji-{service}")
        assert letters in kafka_topics, f"{overlay}: no KafkaTopic {letters}"
        assert kafka_topics[letters]["spec"] == kafka_topics[dlq(ours)]["spec"] | {"topicName": letters}
        assert kafka_topics[letters]["metadata"]["name"] == letters.replace(".", "-")
        assert acl_operations(user, letters) == {"Describe", "Write"}, f"{service} in {overlay}: {letters}"
        assert acl_operations(ops, letters) == {"Describe", "Read"}, f"xueji-ops-dlq in {overlay}: {letters}"
        assert acl_operations(ops, topic) == {"Describe", "Write"}, f"xueji-ops-dlq in {overlay}: replay to {topic}"
        assert acl_operations(user, topic) == {"Describe", "Read"}, f"{service} in {overlay}: {topic}"


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
