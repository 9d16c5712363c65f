"""docker-compose.yml against the compose-spec schema, the services' settings, their ports and the contracts' topics."""

from __future__ import annotations

import copy
import importlib.resources
import json
import re
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml
from deploy_facts import (
    JWT_KEY,
    MUST_SET,
    PENDING_SETTINGS,
    ROOT,
    SERVICES,
    compose_file,
    known_env,
    load_script,
    required_env,
    settings_class,
)

from xueji_contracts.topics import ALL_TOPICS, all_topic_names

HTTP_PORT = 8080
DOCKERFILE = "deploy/docker/service.Dockerfile"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return compose_file()


@pytest.fixture(scope="module")
def compose_schema() -> jsonschema.protocols.Validator:
    # The compose-spec schema as vendored by check-jsonschema (a dev dependency).
    ref = importlib.resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema = json.loads(ref.read_text())
    return jsonschema.Draft202012Validator(schema)


def test_compose_file_follows_the_compose_spec(compose: dict[str, Any], compose_schema: Any) -> None:
    errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in compose_schema.iter_errors(compose)]
    assert not errors, "\n".join(errors)


def test_compose_spec_check_rejects_a_wrong_condition(compose: dict[str, Any], compose_schema: Any) -> None:
    broken = copy.deepcopy(compose)
    broken["services"]["registry"]["depends_on"]["kafka"]["condition"] = "healthy"
    assert not compose_schema.is_valid(broken)


def test_every_service_is_built_from_the_one_dockerfile(compose: dict[str, Any]) -> None:
    for service in SERVICES:
        assert service in compose["services"], f"{service} is missing from docker-compose.yml"
        build = compose["services"][service]["build"]
        assert build == {"context": ".", "dockerfile": DOCKERFILE, "args": {"SERVICE": service}}


@pytest.mark.parametrize("service", SERVICES)
def test_service_environment_is_what_its_settings_read(
    compose: dict[str, Any], service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {k: str(v) for k, v in compose["services"][service]["environment"].items()}
    missing = (MUST_SET | required_env(service) | {"XUEJI_PROVINCE"}) - env.keys()
    assert not missing, f"{service}: compose does not set {sorted(missing)}"
    assert JWT_KEY & env.keys(), f"{service}: no JWT public key ({' or '.join(sorted(JWT_KEY))})"
    unknown = env.keys() - known_env(service) - PENDING_SETTINGS.keys()
    assert not unknown, f"{service}: {sorted(unknown)} are read by no setting of {settings_class(service).__name__}"
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = settings_class(service)()  # validates every value the way the service will
    assert settings.service_name == service


def test_services_reach_kafka_and_mongodb_where_compose_runs_them(compose: dict[str, Any]) -> None:
    services = compose["services"]
    kafka_env = services["kafka"]["environment"]
    for service in SERVICES:
        env = services[service]["environment"]
        host, port = env["KAFKA_BOOTSTRAP_SERVERS"].split(":")
        assert host == "kafka"
        assert f"PLAINTEXT://kafka:{port}" in kafka_env["KAFKA_ADVERTISED_LISTENERS"]
        uri = urlsplit(env["MONGODB_URI"])
        assert uri.hostname in services and uri.port == 27017
        replica_set = re.search(r"replicaSet=(\w+)", uri.query)
        assert replica_set, "the services must connect to the replica set"
        assert services["mongo"]["command"][services["mongo"]["command"].index("--replSet") + 1] == replica_set[1]
        assert f'_id: "{replica_set[1]}"' in services["mongo-init"]["command"][-1]


def test_ports_match_the_local_stack_and_the_images(compose: dict[str, Any]) -> None:
    from stack import DEFAULT_HTTP_PORTS  # deploy/local/localstack, on sys.path by the root conftest

    published = []
    for service in SERVICES:
        assert compose["services"][service]["ports"] == [f"127.0.0.1:{DEFAULT_HTTP_PORTS[service]}:{HTTP_PORT}"]
    dockerfile = (ROOT / DOCKERFILE).read_text()
    assert re.search(rf"^EXPOSE {HTTP_PORT}$", dockerfile, re.M), f"the images do not expose {HTTP_PORT}"
    for spec in compose["services"].values():
        for port in spec.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{port}: publish on the loopback only"
            published.append(port.split(":")[1])
    assert len(published) == len(set(published)), "two services publish the same host port"


def _topic_lines(compose: dict[str, Any]) -> list[list[str]]:
    return [line.split() for line in compose["services"]["topic-init"]["environment"]["TOPICS"].splitlines() if line]


def test_topic_init_creates_exactly_the_contract_topics(compose: dict[str, Any]) -> None:
    assert [line[0] for line in _topic_lines(compose)] == all_topic_names()


def test_topic_init_takes_partitions_and_retention_from_the_contracts(compose: dict[str, Any]) -> None:
    specs = {t.name: t for t in ALL_TOPICS}
    plan = {t.name: t for t in load_script("gen_k8s_topics").topic_plan()}
    for name, partitions, retention, cleanup in _topic_lines(compose):
        source = specs.get(name) or specs[name.removesuffix(".dlq")]
        assert (int(partitions), int(retention)) == (source.partitions, source.retention_ms), name
        assert cleanup == ("compact" if source.compacted else "delete"), name
        assert (int(partitions), int(retention)) == (plan[name].partitions, plan[name].retention_ms)


def test_topic_init_runs_every_line(compose: dict[str, Any]) -> None:
    script = compose["services"]["topic-init"]["command"][0]
    assert '"$TOPICS"' in script and "--if-not-exists" in script
    for option in ("--partitions", '"retention.ms=$retention"', '"cleanup.policy=$cleanup"'):
        assert option in script


def test_services_start_only_when_their_dependencies_are_ready(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for service in SERVICES:
        spec = services[service]
        assert spec["depends_on"] == {
            "kafka": {"condition": "service_healthy"},
            "mongo": {"condition": "service_healthy"},
            "mongo-init": {"condition": "service_completed_successfully"},
            "topic-init": {"condition": "service_completed_successfully"},
        }
        assert f"http://127.0.0.1:{HTTP_PORT}/readyz" in " ".join(spec["healthcheck"]["test"])
        assert spec["read_only"] is True
    for name, spec in services.items():
        for dependency, condition in spec.get("depends_on", {}).items():
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], f"{name} waits for {dependency}, which has no healthcheck"


def test_profiles_keep_demo_and_monitoring_optional(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["demo"]["profiles"] == ["demo"]
    assert services["demo"]["command"] == ["python", "-m", "xueji_registry.demo"]
    assert services["demo"]["depends_on"] == {"registry": {"condition": "service_healthy"}}
    assert services["prometheus"]["profiles"] == services["grafana"]["profiles"] == ["monitoring"]
    always = {name for name, spec in services.items() if "profiles" not in spec}
    assert always == {"kafka", "topic-init", "mongo", "mongo-init", *SERVICES}


def test_images_are_pinned(compose: dict[str, Any]) -> None:
    assert re.fullmatch(r"apache/kafka:4\.\d+\.\d+", compose["services"]["kafka"]["image"])
    assert re.fullmatch(r"mongo:8\.\d+(\.\d+)?", compose["services"]["mongo"]["image"])
    for name, spec in compose["services"].items():
        image = spec["image"]
        assert ":" in image and not image.endswith(":latest"), f"{name}: pin {image}"


def test_no_literal_secrets_in_compose(compose: dict[str, Any]) -> None:
    """R52: secrets come from files (compose secrets), never from values written in the file."""
    text = (ROOT / "docker-compose.yml").read_text()
    assert "BEGIN" not in text, "a PEM block in docker-compose.yml"
    for name, spec in compose["services"].items():
        for var, value in (spec.get("environment") or {}).items():
            if re.search(r"KEY|PASSWORD|TOKEN|SECRET", var) and not var.endswith("__FILE"):
                assert var.endswith("_FILE") and str(value).startswith("/run/secrets/"), f"{name}: {var}={value}"
    for secret in compose["secrets"].values():
        assert set(secret) == {"file"}


def test_prometheus_scrapes_every_service() -> None:
    config = yaml.safe_load((ROOT / "deploy" / "monitoring" / "prometheus.yml").read_text())
    targets = {
        target: group["labels"]["service"]
        for job in config["scrape_configs"]
        for group in job["static_configs"]
        for target in group["targets"]
    }
    assert targets == {f"{service}:{HTTP_PORT}": service for service in SERVICES}


def test_compose_prometheus_loads_every_rules_file_of_deploy_monitoring() -> None:
    """The same rules the Kubernetes PrometheusRules carry (scripts/sync_k8s_data.py finds them)."""
    import fnmatch

    config = yaml.safe_load((ROOT / "deploy" / "monitoring" / "prometheus.yml").read_text())
    mounted = "/etc/xueji/monitoring/"
    for path in load_script("sync_k8s_data").rule_files():
        inside = mounted + path.relative_to(ROOT / "deploy" / "monitoring").as_posix()
        assert any(fnmatch.fnmatch(inside, glob) for glob in config["rule_files"]), f"{path.name} is not loaded"
