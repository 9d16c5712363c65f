"""MirrorMaker 2 in the national tier carries interprovince.* between every province and the hub, each province's
dedupe identities and checks to the hub and the national answers back, and nothing else.

R50: inter-provincial coordination is the national level's; provinces exchange transfers only
through the hub, and only the inter-provincial topic leaves a province's cluster (R52).
"""

from __future__ import annotations

import re
from typing import Any

from deploy_facts import PROVINCE_OVERLAYS, Built

from xueji_contracts.topics import (
    INTERPROVINCE_TRANSFER,
    NATIONAL_CHECK,
    NATIONAL_IDENTITY,
    NATIONAL_VERDICT,
    all_topic_names,
)


def mirrors(built: dict[str, Built]) -> dict[str, dict[str, Any]]:
    return {m["metadata"]["name"]: m["spec"] for m in built["national"].of_kind("KafkaMirrorMaker2")}


def test_every_mirror_runs_on_its_target_cluster(built: dict[str, Built]) -> None:
    for name, spec in mirrors(built).items():
        aliases = [c["alias"] for c in spec["clusters"]]
        assert len(aliases) == len(set(aliases)), name
        assert spec["connectCluster"] in aliases
        for mirror in spec["mirrors"]:
            assert {mirror["sourceCluster"], mirror["targetCluster"]} <= set(aliases)
            assert mirror["targetCluster"] == spec["connectCluster"], f"{name}: Connect runs on the target cluster"


def test_each_province_goes_to_the_hub_and_comes_back(built: dict[str, Built]) -> None:
    specs = mirrors(built)
    to_hub = {m["sourceCluster"] for m in specs["xueji-to-national"]["mirrors"]}
    assert to_hub == set(PROVINCE_OVERLAYS)
    assert set(specs) == {"xueji-to-national", *(f"xueji-to-{p}" for p in PROVINCE_OVERLAYS)}
    for province in PROVINCE_OVERLAYS:
        (back,) = specs[f"xueji-to-{province}"]["mirrors"]
        assert (back["sourceCluster"], back["targetCluster"]) == ("national", province)


TO_HUB_DEDUPE = [NATIONAL_IDENTITY.name, NATIONAL_CHECK.name]


def test_only_interprovince_and_national_dedupe_topics_are_mirrored(built: dict[str, Built]) -> None:
    specs = mirrors(built)
    crossing = [t for t in all_topic_names(with_dlq=False) if t.startswith("interprovince.")]
    assert INTERPROVINCE_TRANSFER.name in crossing
    for mirror in specs["xueji-to-national"]["mirrors"]:
        mirrored = [t for t in all_topic_names() if re.fullmatch(mirror["topicsPattern"], t)]
        assert sorted(mirrored) == sorted(crossing + TO_HUB_DEDUPE), mirrored
    hub_topics = [f"{p}.{t}" for p in PROVINCE_OVERLAYS for t in crossing + TO_HUB_DEDUPE] + all_topic_names()
    for province in PROVINCE_OVERLAYS:
        (back,) = specs[f"xueji-to-{province}"]["mirrors"]
        mirrored = {t for t in hub_topics if re.fullmatch(back["topicsPattern"], t)}
        # The province's own topic is in the list too; MirrorMaker's cycle check keeps it from returning.
        # Identities never go back to any province: only the national tier's answers do.
        assert mirrored == {f"{p}.{t}" for p in PROVINCE_OVERLAYS for t in crossing} | {NATIONAL_VERDICT.name}


def test_mirrors_reach_each_province_on_its_interprovince_listener(built: dict[str, Built]) -> None:
    for spec in mirrors(built).values():
        for cluster in spec["clusters"]:
            if cluster["alias"] == "national":
                continue
            build = built[f"provinces/{cluster['alias']}"]
            (kafka,) = build.of_kind("Kafka")
            listener = next(lst for lst in kafka["spec"]["kafka"]["listeners"] if lst["name"] == "interprov")
            namespace = kafka["metadata"]["namespace"]
            assert (
                cluster["bootstrapServers"]
                == f"{kafka['metadata']['name']}-kafka-bootstrap.{namespace}.svc:{listener['port']}"
            )
            assert cluster["authentication"]["username"] in {u["metadata"]["name"] for u in build.of_kind("KafkaUser")}


def test_mirror_users_may_read_interprovince_topics(built: dict[str, Built]) -> None:
    for province in PROVINCE_OVERLAYS:
        user = built[f"provinces/{province}"].named("KafkaUser", "xueji-national-mirror")
        readable = [
            (a["resource"]["name"], a["resource"]["patternType"])
            for a in user["spec"]["authorization"]["acls"]
            if a["resource"]["type"] == "topic" and "Read" in a["operations"]
        ]

        assert _reads(readable, INTERPROVINCE_TRANSFER.name) and all(_reads(readable, t) for t in TO_HUB_DEDUPE)
        others = [t for t in all_topic_names() if not t.startswith("interprovince.") and t not in TO_HUB_DEDUPE]
        assert not [t for t in others if _reads(readable, t)]


def _reads(acls: list[tuple[str, str]], topic: str) -> bool:
    return any(topic == name if kind == "literal" else topic.startswith(name) for name, kind in acls if name != "mm2-")
