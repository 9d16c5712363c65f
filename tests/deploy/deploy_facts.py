"""What the deployment checks compare against: the services, their settings, the overlays, and a kustomize build."""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import AliasChoices

from xueji_contracts.topics import all_topic_names
from xueji_kit.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "pyproject.toml").exists())
PROVINCE_OVERLAYS = {"fj": "35", "hn": "43"}
OVERLAYS = [f"provinces/{code}" for code in PROVINCE_OVERLAYS] + ["national"]

# The settings that name topics a service reads, where an overlay lists the mirrored copies instead of ours.
MIRRORED_IN_SETTINGS = {
    "transfer": ("XUEJI_INTERPROVINCE_INBOUND_TOPICS",),
    "registry": ("XUEJI_INTERPROVINCE_FILE_TOPICS",),
    "dedupe": ("XUEJI_NATIONAL_VERDICT_TOPICS", "XUEJI_IDENTITY_TOPICS", "XUEJI_CHECK_TOPICS"),
}
# Variables the deployments set ahead of the code that will read them; each says why. A test fails
# once a service's settings learn one of them, so this list cannot go stale silently.
PENDING_SETTINGS: dict[str, str] = {}
# What a containerised service must be told: its defaults point at 127.0.0.1.
MUST_SET = {"KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URI"}
JWT_KEY = {"XUEJI_JWT_PUBLIC_KEY_FILE", "XUEJI_JWT_PUBLIC_KEY"}


def settings_class(service: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"xueji_{service}.settings")
    classes = [
        c
        for c in vars(module).values()
        if isinstance(c, type) and issubclass(c, ServiceSettings) and c.__module__ == module.__name__
    ]
    assert len(classes) == 1, f"xueji_{service}.settings should define one settings class, found {classes}"
    return classes[0]


def env_names(cls: type[ServiceSettings]) -> dict[str, set[str]]:
    """Field name -> the environment variable names that set it (upper case; pydantic-settings ignores case)."""
    prefix = str(cls.model_config.get("env_prefix", ""))
    names = {}
    for field_name, field in cls.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            choices = [c for c in alias.choices if isinstance(c, str)]
        elif isinstance(alias, str):
            choices = [alias]
        else:
            choices = [prefix + field_name]
        names[field_name] = {c.upper() for c in choices}
    return names


def known_env(service: str) -> set[str]:
    return set().union(*env_names(settings_class(service)).values())


def required_env(service: str) -> set[str]:
    """Variables of fields without a default: each must be set, under one of its names."""
    cls = settings_class(service)
    return {sorted(names)[0] for f, names in env_names(cls).items() if cls.model_fields[f].is_required()}


@dataclass(frozen=True)
class Built:
    overlay: str
    objects: list[dict[str, Any]]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] == kind]

    def named(self, kind: str, name: str) -> dict[str, Any]:
        found = [o for o in self.of_kind(kind) if o["metadata"]["name"] == name]
        assert len(found) == 1, f"{self.overlay}: expected one {kind} {name}, found {len(found)}"
        return found[0]

    def config_map(self, generated_name: str) -> dict[str, Any]:
        """A generated ConfigMap by its name before kustomize's hash suffix."""
        found = [
            o
            for o in self.of_kind("ConfigMap")
            if re.fullmatch(rf"{re.escape(generated_name)}(-[a-z0-9]{{10}})?", o["metadata"]["name"])
        ]
        assert len(found) == 1, f"{self.overlay}: expected one ConfigMap {generated_name}, found {len(found)}"
        return found[0]


def mirrored_in(build: Built) -> list[tuple[str, str, str]]:
    """(service, topic, the topic of ours it mirrors) for each topic an overlay's services read that MirrorMaker 2
    writes: named by a setting (the Deployment's env over xueji-config), and none of the contracts' own topics."""
    config = build.config_map("xueji-config")["data"]
    found = []
    for deployment in build.of_kind("Deployment"):
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        env = config | {v["name"]: v.get("value", "") for v in container.get("env", [])}
        for variable in MIRRORED_IN_SETTINGS.get(deployment["metadata"]["name"], ()):
            for topic in json.loads(env.get(variable, "[]")):
                if topic not in all_topic_names():
                    found.append((deployment["metadata"]["name"], topic, _mirrored(topic)))
    return found


def _mirrored(topic: str) -> str:
    """`national.hn.interprovince.transfer.v1` -> `interprovince.transfer.v1`: MirrorMaker's aliases dropped."""
    rest = topic
    while rest not in all_topic_names():
        assert "." in rest, f"{topic} mirrors none of the contracts' topics"
        rest = rest.split(".", 1)[1]
    return rest


def build(kustomize: Path, overlay: str) -> Built:
    result = subprocess.run(
        [str(kustomize), "build", str(K8S / "overlays" / overlay)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"kustomize build overlays/{overlay} failed:\n{result.stderr}"
    return Built(overlay, [o for o in yaml.safe_load_all(result.stdout) if o])


def load_script(name: str) -> Any:
    """A module of scripts/ (they are run as files, not installed), for its functions and tables."""
    spec = importlib.util.spec_from_file_location(f"xueji_script_{name}", ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


_INTERPOLATION = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's variable interpolation (${VAR}, ${VAR:-default}, $$) over a parsed document."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(3)
        return env.get(name) or (match.group(2) or "")

    return _INTERPOLATION.sub(substitute, value)


def compose_file(env: dict[str, str] | None = None) -> dict[str, Any]:
    """docker-compose.yml as `docker compose config` would see it with `env` (merge keys resolved)."""
    raw = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return interpolate(raw, env or {})
