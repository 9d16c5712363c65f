"""docs/operations.md points at things that exist: its links, anchors, scripts, overlays and manifest names."""

from __future__ import annotations

import json
import re

import pytest
from deploy_facts import K8S, OVERLAYS, ROOT, Built
from test_k8s_network import admitted, universe

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


# The operators' commands and where the guide runs them: those reading a dead-letter topic in a Job of the ops-cli
# template (as xueji-ops-dlq, whom the brokers let read it), those on a service's store in that service's pods.
OPERATOR_COMMANDS = {
    "xueji_kit.dlq": "job/$J",
    "xueji_notify.webhook_dlq": "job/$J",
    "xueji_kit.followups": "deploy/",
    "xueji_kit.failed_timers": "deploy/",
    "xueji_registry.consistency": "deploy/registry",
}


def test_each_operator_command_has_a_kubectl_line_to_run_it(built: dict[str, Built]) -> None:
    text = GUIDE.read_text()
    fj = built["provinces/fj"]
    fj.named("CronJob", "ops-cli")
    fj.named("KafkaUser", "xueji-ops-dlq")
    assert "kubectl -n $N create job $J --from=cronjob/ops-cli" in text
    for module, target in OPERATOR_COMMANDS.items():
        runs = re.findall(rf"kubectl -n \$N exec (\S+) -- python -m {re.escape(module)}[\s`]", text)
        assert runs, f"the guide gives no kubectl line running python -m {module}"
        assert all(r.startswith(target) for r in runs), f"{module} runs in {runs}, not {target}"
    assert "<the password in secret" not in text, "no password typed into a command line"


def test_the_ops_client_pod_is_confined(built: dict[str, Built]) -> None:
    """The pod the guide starts for Kafka's tools ("The ops client") holds xueji-ops's password: like the services it
    runs without a service-account token (the namespace's default account's would be mounted), as non-root, with no
    capabilities and no privilege escalation. Its overrides are merged by container name (`strategic`), so the
    image and command `kubectl run` writes stay."""
    text = GUIDE.read_text()
    (run,) = re.findall(r"^kubectl -n \$N run xueji-ops (?:.*\\\n)*.*$", text, re.M)
    assert "--override-type=strategic" in run
    (overrides,) = re.findall(r"^OPS_POD='(.*?)'$", text, re.M | re.S)
    assert '--overrides="$OPS_POD"' in run
    pod = json.loads(overrides)
    assert pod["apiVersion"] == "v1", "kubectl run takes overrides only with their apiVersion"
    spec = pod["spec"]
    service = built["provinces/fj"].named("Deployment", "notify")["spec"]["template"]["spec"]
    assert spec["automountServiceAccountToken"] is False
    assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] != 0
    assert spec["securityContext"]["seccompProfile"] == service["securityContext"]["seccompProfile"]
    (container,) = spec["containers"]
    assert container["name"] == "xueji-ops", "merged into the container kubectl run names after the pod"
    confined = {k: v for k, v in service["containers"][0]["securityContext"].items() if k != "readOnlyRootFilesystem"}
    assert container["securityContext"] == confined


OPS_CLIENT_OUT = {("dns", 53, "UDP"), ("dns", 53, "TCP"), ("kafka-broker", 9093, "TCP")}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_ops_client_pod_reaches_only_dns_and_the_brokers(built: dict[str, Built], overlay: str) -> None:
    """The pod the guide starts for Kafka's tools, labelled as the guide labels it, is isolated by a policy of the
    overlay: out only to DNS and the brokers' TLS listener (no MongoDB, no internet), nothing in (`kubectl exec` and
    `kubectl cp` go through the kubelet, not the pod network)."""
    text = GUIDE.read_text()
    (run,) = re.findall(r"^kubectl -n \$N run xueji-ops (?:.*\\\n)*.*$", text, re.M)
    (labels,) = re.findall(r"--labels=(\S+)", run)
    pod = dict(pair.split("=", 1) for pair in labels.split(","))
    build = built[overlay]
    namespace = build.of_kind("Deployment")[0]["metadata"]["namespace"]
    policies, everyone = build.of_kind("NetworkPolicy"), universe(build, namespace)
    assert admitted(policies, pod, everyone, "egress") == OPS_CLIENT_OUT
    assert admitted(policies, pod, everyone, "ingress") == set()
