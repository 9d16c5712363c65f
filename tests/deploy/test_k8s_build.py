"""Every overlay builds with kustomize and every object it yields validates against its schema.

Kubernetes' own kinds validate against the OpenAPI-derived schemas shipped by kubernetes-validate
(strict: an unknown field is an error), for the oldest and newest Kubernetes we support. The
operators' kinds (Strimzi, MongoDB Community, Prometheus operator) validate against the minimal
schemas under deploy/k8s/schemas/, written for this project (no registry package ships them).
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
from deploy_facts import K8S, OVERLAYS, ROOT, Built

KUBERNETES_VERSIONS = ["1.31", "1.37"]
SCHEMAS = K8S / "schemas"

# Secrets the manifests reference but never contain (R52): who writes each.
OPERATOR_SECRETS = "written by Strimzi (KafkaUser, cluster CA) or the MongoDB operator (connection strings)"
MANUAL_SECRETS = {
    "xueji-jwt-public-key",
    "xueji-notify-webhook-keys",
    "xueji-mongodb-registry-password",
    "xueji-mongodb-transfer-password",
    "xueji-mongodb-dedupe-password",
    "xueji-mongodb-notify-password",
    "fj-cluster-ca-cert",
    "fj-mirror-credentials",
    "hn-cluster-ca-cert",
    "hn-mirror-credentials",
}


def crd_schema(api_version: str, kind: str) -> Path:
    return SCHEMAS / api_version / f"{kind.lower()}.json"


def validate(obj: dict[str, Any], version: str) -> None:
    path = crd_schema(obj["apiVersion"], obj["kind"])
    if path.exists():
        jsonschema.Draft202012Validator(json.loads(path.read_text())).validate(obj)
    else:
        kubernetes_validate.validate(obj, version, strict=True)


def describe(obj: dict[str, Any]) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_builds_into_a_namespace(built: dict[str, Built], overlay: str) -> None:
    objects = built[overlay].objects
    namespace = built[overlay].named("Namespace", f"xueji-{overlay.split('/')[-1]}")["metadata"]["name"]
    assert all(o["metadata"].get("namespace") == namespace for o in objects if o["kind"] != "Namespace")


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_validates(built: dict[str, Built], overlay: str, version: str) -> None:
    problems = []
    for obj in built[overlay].objects:
        try:
            validate(obj, version)
        except kubernetes_validate.SchemaNotFoundError:
            problems.append(f"{describe(obj)}: no schema for {obj['apiVersion']} (add one under deploy/k8s/schemas/)")
        except jsonschema.ValidationError as error:
            problems.append(f"{describe(obj)}: {'.'.join(map(str, error.absolute_path))}: {error.message}")
    assert not problems, "\n".join(problems)


def test_validation_rejects_misspelt_fields(built: dict[str, Built]) -> None:
    """The checks above can fail: an unknown field is an error, for Kubernetes kinds and for ours."""
    build = built["provinces/fj"]
    deployment = copy.deepcopy(build.named("Deployment", "registry"))
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["readinesProbe"] = container.pop("readinessProbe")
    with pytest.raises(jsonschema.ValidationError):
        validate(deployment, KUBERNETES_VERSIONS[0])
    topic = copy.deepcopy(build.of_kind("KafkaTopic")[0])
    topic["spec"]["partition"] = topic["spec"].pop("partitions")
    with pytest.raises(jsonschema.ValidationError):
        validate(topic, KUBERNETES_VERSIONS[0])
    user = copy.deepcopy(build.named("KafkaUser", "xueji-registry"))
    user["spec"]["authorization"]["acls"][0]["operations"] = ["Reed"]
    with pytest.raises(jsonschema.ValidationError):
        validate(user, KUBERNETES_VERSIONS[0])


@pytest.mark.parametrize("path", sorted(SCHEMAS.rglob("*.json")), ids=lambda p: p.stem)
def test_our_schemas_are_json_schemas_for_their_kind(path: Path) -> None:
    schema = json.loads(path.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["kind"]["const"].lower() == path.stem
    assert schema["properties"]["apiVersion"]["const"] == path.parent.relative_to(SCHEMAS).as_posix()


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    """The pod a workload runs: a Deployment's, or that of the Jobs a CronJob (ops-cli) makes."""
    template = obj["spec"]["jobTemplate"]["spec"]["template"] if obj["kind"] == "CronJob" else obj["spec"]["template"]
    spec: dict[str, Any] = template["spec"]
    return spec


def workloads(build: Built) -> list[dict[str, Any]]:
    return build.of_kind("Deployment") + build.of_kind("CronJob")


def containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    containers: list[dict[str, Any]] = pod_spec(obj)["containers"]
    return containers


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_images_are_pinned_and_come_from_the_registry(built: dict[str, Built], overlay: str) -> None:
    for obj in workloads(built[overlay]):
        for container in containers(obj):
            image = container["image"]
            assert re.fullmatch(r"[a-z0-9.-]+(:\d+)?/[a-z0-9/._-]+(:[\w.-]+|@sha256:[0-9a-f]{64})", image), image
            assert not image.endswith(":latest"), image


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_literal_secrets(built: dict[str, Built], overlay: str) -> None:
    """R52: no Secret objects, no secret values in env or ConfigMaps; every referenced Secret has a known writer."""
    build = built[overlay]
    assert not build.of_kind("Secret"), "Secrets are created outside the manifests"
    text = json.dumps(build.objects)
    assert "BEGIN" not in text and "PRIVATE KEY" not in text
    for obj in workloads(build):
        for container in containers(obj):
            for var in container.get("env", []):
                if re.search(r"PASSWORD|TOKEN|SECRET|KEY$", var["name"]):
                    assert "secretKeyRef" in var.get("valueFrom", {}), f"{describe(obj)}: {var['name']} is literal"
    for cm in build.of_kind("ConfigMap"):
        for key, value in cm.get("data", {}).items():
            if re.search(r"PASSWORD|TOKEN|SECRET|KEY$", key):
                raise AssertionError(f"{describe(cm)}: {key}={value[:20]}...")


def referenced_secrets(build: Built) -> set[str]:
    names = set()
    for obj in workloads(build):
        spec = pod_spec(obj)
        names |= {v["secret"]["secretName"] for v in spec.get("volumes", []) if "secret" in v}
        for container in spec["containers"]:
            names |= {
                v["valueFrom"]["secretKeyRef"]["name"]
                for v in container.get("env", [])
                if "secretKeyRef" in v.get("valueFrom", {})
            }
    for obj in build.of_kind("KafkaMirrorMaker2"):
        for cluster in obj["spec"]["clusters"]:
            names |= {c["secretName"] for c in cluster.get("tls", {}).get("trustedCertificates", [])}
            names.add(cluster["authentication"]["passwordSecret"]["secretName"])
    for obj in build.of_kind("MongoDBCommunity"):
        names |= {u["passwordSecretRef"]["name"] for u in obj["spec"]["users"]}
    return names


def written_by_operators(build: Built) -> set[str]:
    names = {u["metadata"]["name"] for u in build.of_kind("KafkaUser")}
    names |= {f"{k['metadata']['name']}-cluster-ca-cert" for k in build.of_kind("Kafka")}
    for mdb in build.of_kind("MongoDBCommunity"):
        names |= {u["connectionStringSecretName"] for u in mdb["spec"]["users"]}
    return names


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_referenced_secret_has_a_writer(built: dict[str, Built], overlay: str) -> None:
    build = built[overlay]
    unknown = referenced_secrets(build) - written_by_operators(build) - MANUAL_SECRETS
    assert not unknown, f"secrets nobody creates: {sorted(unknown)} (neither {OPERATOR_SECRETS} nor documented)"


def test_operations_guide_tells_how_to_create_each_manual_secret() -> None:
    guide = (ROOT / "docs" / "operations.md").read_text()
    for name in MANUAL_SECRETS:
        generic = re.sub(r"^(fj|hn)-", "<province>-", name)
        assert name in guide or generic in guide, f"docs/operations.md does not say how to create {name}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_config_map_and_service_account_reference_resolves(built: dict[str, Built], overlay: str) -> None:
    build = built[overlay]
    config_maps = {cm["metadata"]["name"] for cm in build.of_kind("ConfigMap")}
    accounts = {sa["metadata"]["name"] for sa in build.of_kind("ServiceAccount")}
    for obj in workloads(build):
        spec = pod_spec(obj)
        assert spec["serviceAccountName"] in accounts
        for container in spec["containers"]:
            for source in container.get("envFrom", []):
                assert source["configMapRef"]["name"] in config_maps
        for volume in spec.get("volumes", []):
            if "configMap" in volume and not volume["configMap"].get("optional"):
                assert volume["configMap"]["name"] in config_maps, f"{describe(obj)}: {volume}"
