"""docs/operations.md points at things that exist: its links, anchors, scripts, overlays and manifest names."""

from __future__ import annotations

import re

from deploy_facts import K8S, OVERLAYS, ROOT, Built

GUIDE = ROOT / "docs" / "operations.md"


def anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces as dashes."""
    headings = re.findall(r"^#+ (.+)$", markdown, re.M)
    return {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-") for h in headings}


def test_links_and_anchors_resolve() -> None:
    text = GUIDE.read_text()
    for target in re.findall(r"\]\(([^)]+)\)", text):
        path, _, anchor = target.partition("#")
        if path:
            assert (GUIDE.parent / path).exists(), f"broken link {target}"
        elif anchor:
            assert anchor in anchors(text), f"no heading for #{anchor}"


def test_named_scripts_and_overlays_exist() -> None:
    text = GUIDE.read_text()
    for script in set(re.findall(r"scripts/[\w_]+\.py", text)):
        assert (ROOT / script).exists(), script
    for overlay in OVERLAYS:
        assert f"overlays/{overlay}" in text, f"the guide does not mention overlays/{overlay}"
        assert (K8S / "overlays" / overlay / "kustomization.yaml").exists()


def test_names_the_guide_uses_are_in_the_manifests(built: dict[str, Built]) -> None:
    text = GUIDE.read_text()
    fj = built["provinces/fj"]
    for kind, name in [
        ("Kafka", "xueji"),
        ("MongoDBCommunity", "xueji-mongodb"),
        ("KafkaUser", "xueji-ops"),
        ("KafkaUser", "xueji-national-mirror"),
    ]:
        assert name in text
        fj.named(kind, name)
    assert f"{len(fj.of_kind('KafkaTopic'))} topics" in text
    bootstrap = fj.config_map("xueji-config")["data"]["KAFKA_BOOTSTRAP_SERVERS"]
    assert f"--bootstrap-server {bootstrap}" in text
