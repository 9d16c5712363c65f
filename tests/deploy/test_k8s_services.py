"""The services' workloads in every overlay: probes, resources, hardening, companions, environment, databases."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from deploy_facts import (
    JWT_KEY,
    MUST_SET,
    OVERLAYS,
    PENDING_SETTINGS,
    PROVINCE_OVERLAYS,
    SERVICES,
    Built,
    known_env,
    required_env,
    settings_class,
)

from xueji_contracts.schools import load_school_names

HTTP_PORT = 8080
MAX_PARTITIONS = 6  # more consumers than partitions sit idle


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "deployment" in metafunc.fixturenames:
        # Which services run where: every province runs all of them, the national tier only dedupe.
        params = [(f"provinces/{p}", s) for p in PROVINCE_OVERLAYS for s in SERVICES] + [("national", "dedupe")]
        metafunc.parametrize("deployment", params, ids=[f"{o}:{s}" for o, s in params])


def test_each_overlay_runs_the_services_it_should(built: dict[str, Built]) -> None:
    for overlay in OVERLAYS:
        names = sorted(d["metadata"]["name"] for d in built[overlay].of_kind("Deployment"))
        assert names == (["dedupe"] if overlay == "national" else SERVICES), overlay


def pod(built: dict[str, Built], deployment: tuple[str, str]) -> dict[str, Any]:
    overlay, name = deployment
    return built[overlay].named("Deployment", name)["spec"]["template"]["spec"]


def test_probes_hit_health_and_readiness(built: dict[str, Built], deployment: tuple[str, str]) -> None:
    (container,) = pod(built, deployment)["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": HTTP_PORT}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"


def test_resources_are_requested_and_memory_is_limited(built: dict[str, Built], deployment: tuple[str, str]) -> None:
    (container,) = pod(built, deployment)["containers"]
    assert {"cpu", "memory"} <= container["resources"]["requests"].keys()
    assert "memory" in container["resources"]["limits"]


def test_runs_non_root_on_a_read_only_root_filesystem(built: dict[str, Built], deployment: tuple[str, str]) -> None:
    spec = pod(built, deployment)
    (container,) = spec["containers"]
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] != 0
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["automountServiceAccountToken"] is False
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    tmp = next(m for m in container["volumeMounts"] if m["mountPath"] == "/tmp")
    assert "emptyDir" in volumes[tmp["name"]], "a read-only root needs a writable /tmp"


def test_spreads_over_zones_and_nodes(built: dict[str, Built], deployment: tuple[str, str]) -> None:
    keys = {c["topologyKey"] for c in pod(built, deployment)["topologySpreadConstraints"]}
    assert keys == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}


def test_has_service_autoscaler_budget_account_and_policy(built: dict[str, Built], deployment: tuple[str, str]) -> None:
    overlay, name = deployment
    build = built[overlay]
    workload = build.named("Deployment", name)
    labels = workload["spec"]["template"]["metadata"]["labels"]
    service = build.named("Service", name)
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    hpa = build.named("HorizontalPodAutoscaler", name)
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
    assert 2 <= hpa["spec"]["minReplicas"] == workload["spec"]["replicas"] <= hpa["spec"]["maxReplicas"]
    assert hpa["spec"]["maxReplicas"] <= MAX_PARTITIONS
    pdb = build.named("PodDisruptionBudget", name)
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert pdb["spec"]["minAvailable"] < workload["spec"]["replicas"], "a drain must be able to proceed"
    assert build.named("ServiceAccount", name)["automountServiceAccountToken"] is False
    strategy = workload["spec"]["strategy"]["rollingUpdate"]
    assert strategy["maxUnavailable"] == 0, "a rolling upgrade never drops below the replicas"


def environment(build: Built, name: str) -> dict[str, str]:
    """Every variable the container sees: envFrom ConfigMaps, then env (a secret's value as a placeholder)."""
    (container,) = build.named("Deployment", name)["spec"]["template"]["spec"]["containers"]
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        cm = next(c for c in build.of_kind("ConfigMap") if c["metadata"]["name"] == source["configMapRef"]["name"])
        env |= cm["data"]
    for var in container.get("env", []):
        env[var["name"]] = var.get("value", f"<{var['name']} from a secret>")
    return env


def test_environment_is_what_the_settings_read(
    built: dict[str, Built], deployment: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    overlay, name = deployment
    env = environment(built[overlay], name)
    missing = (MUST_SET | required_env(name)) - env.keys()
    assert not missing, f"{overlay}/{name} does not set {sorted(missing)}"
    assert JWT_KEY & env.keys()
    unknown = env.keys() - known_env(name) - PENDING_SETTINGS.keys()
    assert not unknown, f"{overlay}/{name}: {sorted(unknown)} are read by no setting"
    code = PROVINCE_OVERLAYS.get(overlay.removeprefix("provinces/"))
    if code:
        assert env["XUEJI_PROVINCE"] == code
    for var, value in env.items():
        monkeypatch.setenv(var, "mongodb://placeholder:27017/" if var == "MONGODB_URI" else value)
    assert settings_class(name)().service_name == name


@pytest.mark.parametrize("service", SERVICES)
def test_pending_settings_are_still_pending(service: str) -> None:
    """When a service learns to read one of them, move it out of PENDING_SETTINGS (tests/deploy/deploy_facts.py)."""
    learned = PENDING_SETTINGS.keys() & known_env(service)
    assert not learned, f"{service} now reads {sorted(learned)}: remove them from PENDING_SETTINGS"


def test_each_service_has_its_own_database_user(built: dict[str, Built], deployment: tuple[str, str]) -> None:
    overlay, name = deployment
    build = built[overlay]
    (mdb,) = build.of_kind("MongoDBCommunity")
    (container,) = build.named("Deployment", name)["spec"]["template"]["spec"]["containers"]
    uri = next(v for v in container["env"] if v["name"] == "MONGODB_URI")["valueFrom"]["secretKeyRef"]
    assert uri["key"] == "connectionString.standard"
    (user,) = [u for u in mdb["spec"]["users"] if u["connectionStringSecretName"] == uri["name"]]
    assert user["name"] == name
    database = settings_class(name)().database_name
    assert user["roles"] == [{"name": "readWrite", "db": database}], "a service reaches only its own database"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_database_users_are_exactly_the_services(built: dict[str, Built], overlay: str) -> None:
    build = built[overlay]
    (mdb,) = build.of_kind("MongoDBCommunity")
    assert {u["name"] for u in mdb["spec"]["users"]} == {d["metadata"]["name"] for d in build.of_kind("Deployment")}
    assert mdb["spec"]["members"] >= 3 and mdb["spec"]["members"] % 2 == 1
    assert mdb["spec"]["version"].startswith("8.")


def test_national_tier_runs_dedupe_with_national_scope(built: dict[str, Built]) -> None:
    env = environment(built["national"], "dedupe")
    assert env["XUEJI_SCOPE"] == "national"
    assert "XUEJI_PROVINCE" not in env


def test_r50_every_deployment_takes_tokens_minted_for_it_alone(built: dict[str, Built]) -> None:
    """Where provinces share an identity provider's signing key, the audience tells whose deployment a token is for:
    each overlay's own, the same for all its services, none the development default."""
    audiences: dict[str, str] = {}
    for overlay in OVERLAYS:
        names = ["dedupe"] if overlay == "national" else list(SERVICES)
        seen = {environment(built[overlay], name).get("XUEJI_JWT_AUDIENCE") for name in names}
        assert len(seen) == 1, f"{overlay}: its services expect the audiences {seen}"
        (audiences[overlay],) = seen
    defaults = settings_class("registry").model_fields["jwt_audience"].default
    assert defaults not in audiences.values(), audiences
    assert len(set(audiences.values())) == len(audiences), f"overlays share an audience: {audiences}"
    assert audiences["national"] == "xueji-national"
    for province, code in PROVINCE_OVERLAYS.items():
        assert audiences[f"provinces/{province}"] == f"xueji-{code}"


@pytest.mark.parametrize("overlay", [f"provinces/{code}" for code in PROVINCE_OVERLAYS])
@pytest.mark.parametrize("name", ["registry", "notify"])
def test_registry_and_notify_read_the_provinces_school_directory(
    built: dict[str, Built], overlay: str, name: str, tmp_path: Path
) -> None:
    """The file XUEJI_SCHOOL_DIRECTORY_FILE names is the province's xueji-schools ConfigMap, mounted for sure, in
    the format both services read (schools named on every page, not only codes)."""
    path = PurePosixPath(environment(built[overlay], name)["XUEJI_SCHOOL_DIRECTORY_FILE"])
    spec = pod(built, (overlay, name))
    (container,) = spec["containers"]
    (mount,) = [m for m in container["volumeMounts"] if PurePosixPath(m["mountPath"]) == path.parent]
    (volume,) = [v for v in spec["volumes"] if v["name"] == mount["name"]]
    schools = built[overlay].config_map("xueji-schools")
    assert volume["configMap"]["name"] == schools["metadata"]["name"]
    assert not volume["configMap"].get("optional"), "a missing directory stops the pod instead of the service"
    copy = tmp_path / path.name
    copy.write_text(schools["data"][path.name], encoding="utf-8")
    load_school_names(copy)
