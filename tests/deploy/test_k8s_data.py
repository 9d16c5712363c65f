"""The data deploy/k8s copies from elsewhere (policies, calendar, alert rules, dashboards) stays identical to its source."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from deploy_facts import K8S, OVERLAYS, PROVINCE_OVERLAYS, Built, load_script

sync = load_script("sync_k8s_data")


def test_copies_are_fresh() -> None:
    stale = sync.stale_files()
    assert not stale, f"stale copies {[str(p) for p in stale]}; run `uv run python scripts/sync_k8s_data.py`"


@pytest.mark.parametrize("code", PROVINCE_OVERLAYS)
def test_province_policy_is_served_from_its_contract_file(built: dict[str, Built], code: str) -> None:
    source = sync.CONTRACTS / "policies" / f"{code}.yaml"
    if not source.exists():
        pytest.skip(f"{source.relative_to(sync.ROOT)} is not written yet (the overlay then has no xueji-policy)")
    policy = built[f"provinces/{code}"].config_map("xueji-policy")
    assert policy["data"] == {"policy.yaml": source.read_text()}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_calendar_is_served_from_the_contracts(built: dict[str, Built], overlay: str) -> None:
    source = sync.CONTRACTS / "data" / "calendar_cn.json"
    if not source.exists():
        pytest.skip(f"{source.relative_to(sync.ROOT)} is not written yet (no xueji-calendar)")
    calendar = built[overlay].config_map("xueji-calendar")
    assert calendar["data"] == {"calendar_cn.json": source.read_text()}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_alert_rules_of_deploy_monitoring_are_prometheus_rules(built: dict[str, Built], overlay: str) -> None:
    expected = [yaml.safe_load(p.read_text())["groups"] for p in sync.rule_files()]
    served = [r["spec"]["groups"] for r in built[overlay].of_kind("PrometheusRule")]
    assert served == expected
    dashboards = {p.name: p.read_text() for p in sync.dashboards()}
    config_maps = [
        c for c in built[overlay].of_kind("ConfigMap") if c["metadata"].get("labels", {}).get("grafana_dashboard")
    ]
    assert {k: v for c in config_maps for k, v in c["data"].items()} == dashboards


def test_a_rules_file_becomes_a_valid_prometheus_rule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The wrapping works before deploy/monitoring has rules of its own."""
    (tmp_path / "alerts.rules.yml").write_text(
        "groups:\n  - name: xueji\n    rules:\n"
        "      - alert: DeadLetters\n        expr: increase(xueji_dead_letters_total[10m]) > 0\n        for: 5m\n"
        "        labels: {severity: warning}\n        annotations: {summary: messages went to a DLQ}\n"
    )
    (tmp_path / "sla.json").write_text('{"title": "SLA", "panels": []}')
    monkeypatch.setattr(sync, "MONITORING", tmp_path)
    files = sync.monitoring_files()
    rule = yaml.safe_load(files[sync.MONITORING_OUT / "xueji-alerts-rules.yaml"])
    schema = json.loads((K8S / "schemas" / "monitoring.coreos.com" / "v1" / "prometheusrule.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(rule | {"metadata": {"name": rule["metadata"]["name"]}})
    kustomization = yaml.safe_load(files[sync.MONITORING_OUT / "kustomization.yaml"])
    assert kustomization["resources"] == ["xueji-alerts-rules.yaml"]
    assert kustomization["configMapGenerator"][0]["files"] == ["dashboards/sla.json"]
