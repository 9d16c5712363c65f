"""deploy/monitoring: the alert rules and the Grafana dashboard name only metrics the services export."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "deploy" / "monitoring"
PROMQL_WORDS = {
    "sum", "max", "min", "avg", "count", "by", "without", "rate", "irate", "increase", "deriv", "delta",
    "histogram_quantile", "and", "or", "unless", "offset", "bool", "on", "ignoring", "group_left", "group_right",
    "topk", "bottomk", "abs", "clamp_min", "clamp_max", "label_replace", "vector", "scalar", "time",
}  # fmt: skip
PROMETHEUS_OWN = {"up"}
REQUIRED_ALERTS = {  # the issue's list: lag growing, DLQ non-empty, firing delay over 5 s, breaches rising
    "XuejiConsumerLagGrowing", "XuejiDeadLetters", "XuejiTimerFiringDelayHigh", "XuejiBreachesRising",
}  # fmt: skip


def metric_names(expr: str) -> set[str]:
    """The series names a PromQL expression selects (labels, ranges, functions and keywords left out)."""
    text = re.sub(r'"[^"]*"', "", expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", text)
    text = re.sub(r"\boffset\s+\w+", "", text)
    names = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", text)) - PROMQL_WORDS
    return {n for n in names if not re.fullmatch(r"\d+[smhdwy]?|e\d+", n)}


def rule_exprs() -> dict[str, str]:
    rules = yaml.safe_load((MONITORING / "alerts.rules.yml").read_text())
    return {r["alert"]: r["expr"] for group in rules["groups"] for r in group["rules"]}


def dashboard_exprs() -> dict[str, str]:
    found = {}
    for path in MONITORING.glob("*.json"):
        dashboard = json.loads(path.read_text())
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                found[f"{path.name}: {panel['title']} {target['refId']}"] = target["expr"]
    return found


async def exported_series() -> set[str]:
    """Series names on /metrics of the four services (one registry per process; imported here together)."""
    from xueji_dedupe.app import create_app as dedupe
    from xueji_notify.app import create_app as notify
    from xueji_registry.app import create_app as registry
    from xueji_transfer.app import create_app as transfer

    names: set[str] = set()
    for create in (registry, transfer, dedupe, notify):
        app = create()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service") as client:
            text = (await client.get("/metrics")).text
        for family, kind in re.findall(r"^# TYPE (\S+) (\S+)$", text, re.MULTILINE):
            suffixes = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count")}.get(kind, ("",))
            names |= {family + s for s in suffixes}
        await app.state.runtime.mongo.close()
    return names


def test_metric_names_are_read_out_of_promql():
    expr = (
        'histogram_quantile(0.99, sum by (le, service) (rate(xueji_timer_firing_delay_seconds_bucket{a="b"}[5m]))) > 5'
    )
    assert metric_names(expr) == {"xueji_timer_firing_delay_seconds_bucket"}
    assert metric_names("sum(increase(x_total[1h])) > 2 * sum(increase(x_total[1h] offset 1d))") == {"x_total"}


async def test_r22_every_metric_the_alerts_and_dashboard_name_is_exported():
    exported = await exported_series()
    named = {source: metric_names(expr) for source, expr in (rule_exprs() | dashboard_exprs()).items()}
    missing = {
        source: sorted(n - exported - PROMETHEUS_OWN) for source, n in named.items() if n - exported - PROMETHEUS_OWN
    }
    assert not missing, f"named but not exported: {missing}"
    assert all(named.values()), "every expression selects at least one series"
    issue_metrics = {  # consumer lag, handler latency, handled/failed/dead-lettered, open stages, timers, breaches, webhooks
        "xueji_consumer_lag", "xueji_handler_seconds_bucket", "xueji_messages_consumed_total", "xueji_dead_letters_total",
        "xueji_sla_stages", "xueji_timers_due", "xueji_timer_firing_delay_seconds_bucket", "xueji_sla_breaches_total",
        "xueji_webhook_deliveries_total",
    }  # fmt: skip
    assert issue_metrics <= set().union(*named.values())


def test_alert_rules_are_complete():
    rules = yaml.safe_load((MONITORING / "alerts.rules.yml").read_text())
    alerts = [r for group in rules["groups"] for r in group["rules"]]
    assert {a["alert"] for a in alerts} >= REQUIRED_ALERTS
    for alert in alerts:
        assert alert["labels"]["severity"] in {"info", "warning", "critical"}, alert["alert"]
        assert alert["annotations"]["summary"] and alert["annotations"]["description"], alert["alert"]
        assert alert["expr"].count("(") == alert["expr"].count(")"), alert["alert"]


@pytest.mark.parametrize("path", sorted(MONITORING.glob("*.json")), ids=lambda p: p.name)
def test_grafana_dashboard_is_well_formed(path: Path):
    dashboard = json.loads(path.read_text())
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 36
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    for panel in dashboard["panels"]:
        assert {"x", "y", "w", "h"} <= panel["gridPos"].keys()
        if panel["type"] != "row":
            assert panel["datasource"]["uid"].strip("${}") in variables
            assert panel["targets"] and all(t["expr"] and t["refId"] for t in panel["targets"])
