"""docs/operations.md, read as the engineer on call reads it: every operator command line it gives (module, verb and
flags), every metric (with its labels), environment variable, collection, log event, alert and repository path it
names exists in the code. No servers: the commands' own `--help` is asked in a subprocess, as the doc runs them."""

from __future__ import annotations

import functools
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "operations.md"
SOURCES = [ROOT / "kit" / "src", ROOT / "contracts" / "src", *sorted((ROOT / "services").glob("*/src"))]


def guide() -> str:
    return GUIDE.read_text()


def spans() -> list[str]:
    """Every backticked span of the guide (inline code), in order."""
    return re.findall(r"`([^`\n]+)`", guide())


def section(title: str) -> str:
    text = guide()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else len(text)]


@functools.cache
def source_text() -> str:
    return "\n".join(p.read_text() for base in SOURCES for p in sorted(base.rglob("*.py")))


def command_lines() -> list[tuple[str, str, list[str]]]:
    """(module, verb, flags) of each `python -m xueji_…` command the guide gives, continuation lines joined."""
    joined = guide().replace("\\\n", " ")
    found = []
    for module, rest in re.findall(r"python -m (xueji_[\w.]+)([^`\n]*)", joined):
        words = rest.split()
        verb = words.pop(0) if words and not words[0].startswith("-") else ""  # a command of no verbs
        found.append((module, verb, [w for w in words if w.startswith("--")]))
    return found


@functools.cache
def help_of(module: str, verb: str) -> str:
    """The command's own help for one verb, run as the guide runs it (`python -m <module> <verb> --help`)."""
    argv = [sys.executable, "-m", module, *([verb] if verb else []), "--help"]
    run = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert run.returncode == 0, f"python -m {module} {verb} --help: {run.stderr}"
    return run.stdout


def flags_of(module: str, verb: str) -> set[str]:
    return set(re.findall(r"(--[a-z][a-z-]*)", help_of(module, verb)))


COMMANDS = sorted({(m, v) for m, v, _ in command_lines()})


def test_the_guide_gives_each_operator_command() -> None:
    assert {m for m, _ in COMMANDS} == {
        "xueji_kit.dlq", "xueji_notify.webhook_dlq", "xueji_kit.followups", "xueji_kit.failed_timers",
        "xueji_registry.consistency",
    }  # fmt: skip


@pytest.mark.parametrize(("module", "verb"), COMMANDS)
def test_each_command_line_of_the_guide_is_one_the_command_takes(module: str, verb: str) -> None:
    known = flags_of(module, verb)
    for m, v, flags in command_lines():
        if (m, v) == (module, verb):
            assert set(flags) <= known, f"python -m {module} {verb} takes no {set(flags) - known}"


# The procedures whose prose names the flags of one command: each flag named there (in inline code) is one of its verbs'.
PROSE = {
    "Draining a dead-letter topic": ("xueji_kit.dlq", ["replay"]),
    "Webhook deliveries": ("xueji_notify.webhook_dlq", ["list", "replay"]),
    "Parked follow-ups": ("xueji_kit.followups", ["list", "requeue"]),
    "Failed timers": ("xueji_kit.failed_timers", ["list", "refire"]),
}
KAFKA_TOOLS = {"--from-beginning", "--timeout-ms", "--consumer.config", "--bootstrap-server"}


@pytest.mark.parametrize("title", sorted(PROSE))
def test_each_flag_a_procedure_names_is_its_commands(title: str) -> None:
    module, verbs = PROSE[title]
    known = set().union(*(flags_of(module, v) for v in verbs))
    named = {m.group(1) for m in re.finditer(r"`(--[a-z][a-z-]*)", section(title))}
    assert named, title
    assert named - KAFKA_TOOLS <= known, f"{title}: python -m {module} takes no {named - KAFKA_TOOLS - known}"


def _load_metrics() -> dict[str, tuple[str, ...]]:
    """Every metric the services register (their apps imported), by exposed name, with its label names."""
    from prometheus_client import REGISTRY

    for name in ("xueji_registry.app", "xueji_transfer.app", "xueji_dedupe.app", "xueji_notify.app"):
        importlib.import_module(name)
    found: dict[str, tuple[str, ...]] = {}
    for collector, names in REGISTRY._collector_to_names.items():
        for name in names:
            found[name] = tuple(getattr(collector, "_labelnames", ()))
    return found


def test_each_metric_the_guide_names_is_exposed_with_the_labels_it_names() -> None:
    metrics = _load_metrics()
    named = [s for s in spans() if re.fullmatch(r"xueji_[a-z_]+(\{[^}]*\})?", s) and not s.startswith("xueji_<")]
    assert "xueji_dead_letters_total{topic,error}" in named
    for span in named:
        name, _, labels = span.partition("{")
        assert name in metrics, f"the guide names metric {name}; no service exposes it"
        given = {part.split("=")[0].strip() for part in labels.rstrip("}").split(",") if part.strip()}
        assert given <= set(metrics[name]), f"{span}: {name} has labels {metrics[name]}"


def _settings_fields() -> set[str]:
    from xueji_dedupe.settings import DedupeSettings
    from xueji_kit.settings import ServiceSettings
    from xueji_notify.settings import NotifySettings
    from xueji_registry.settings import RegistrySettings
    from xueji_transfer.settings import TransferSettings

    fields: set[str] = set()
    for cls in (ServiceSettings, RegistrySettings, TransferSettings, DedupeSettings, NotifySettings):
        fields |= {f"XUEJI_{name.upper()}" for name in cls.model_fields}
    return fields | {"KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URI"}


def test_each_environment_variable_the_guide_names_is_a_setting() -> None:
    fields = _settings_fields()
    named = set(re.findall(r"\b(XUEJI_[A-Z_]+)\b", guide()))
    assert "XUEJI_HANDLER_RETRIES" in named
    assert named <= fields, f"the guide names {named - fields}; no service reads them"


def test_each_collection_the_guide_names_is_one_the_code_uses() -> None:
    text = guide()
    named = set(re.findall(r"`(\w+)` collection", text))
    named |= {m for m in re.findall(r"^\| [\w ]+ \| `(\w+)`", text, re.M)}  # "Records that hold things up"
    named |= set(re.findall(r"in `(\w+)`(?:,| \()", section("Webhook deliveries")))
    assert {"relay_followups_parked", "timers_failed", "events_outbox", "school_register"} <= named
    code = source_text()
    missing = {n for n in named if f'"{n}"' not in code and f"'{n}'" not in code}
    assert not missing, f"the guide names collections no code uses: {missing}"


def test_each_log_event_the_guide_names_is_logged() -> None:
    text = guide().replace("\n", " ")
    named = set(re.findall(r"\b(?:log|logs|logged as|an error|a notify log)(?: is)? `([a-z_]+)`", text))
    named |= set(re.findall(r"`([a-z_]+)` in the logs", text))
    assert {"relay_follow_up_parked", "timer_fire_failed", "dead_letter_not_written"} <= named
    code = source_text()
    missing = {n for n in named if f'"{n}"' not in code}
    assert not missing, f"the guide names log events nothing logs: {missing}"


def test_each_alert_the_guide_names_is_a_rule() -> None:
    rules = (ROOT / "deploy" / "monitoring" / "alerts.rules.yml").read_text()
    named = set(re.findall(r"`(Xueji\w+)`", guide()))
    assert named, "the guide names its alerts"
    assert {n for n in named if f"alert: {n}\n" not in rules} == set()


def test_each_repository_path_the_guide_names_exists() -> None:
    tops = ("deploy/", "contracts/", "kit/", "scripts/", "services/", "tests/", "docs/")
    for span in spans():
        if span.startswith(("kubectl", "kops")):  # deploy/<service> there is a Kubernetes object, not a path
            continue
        for word in span.split():
            path = word.strip("(),;:")
            if not path.startswith(tops) or "<" in path or "$" in path or "/gd" in path:
                continue
            if "…" in path:
                assert list(ROOT.glob(path.replace("…", "**"))), path
            else:
                assert (ROOT / path).exists(), f"the guide names {path}, which is not in the repository"


def test_each_default_the_guide_states_is_the_settings_default() -> None:
    """`XUEJI_X` (n) in the guide: n is what the service does when X is not set."""
    from xueji_kit.settings import ServiceSettings
    from xueji_notify.settings import NotifySettings

    fields = {**ServiceSettings.model_fields, **NotifySettings.model_fields}
    stated = re.findall(r"`XUEJI_([A-Z_]+)` \(([\d,]+)\)", guide())
    assert len(stated) >= 2
    for name, value in stated:
        assert fields[name.lower()].default == int(value.replace(",", "")), f"XUEJI_{name}"
    assert "`XUEJI_HANDLER_RETRIES=3`" in guide() and fields["handler_retries"].default == 3


def test_the_retry_schedules_the_guide_states_are_the_codes() -> None:
    """Failed timers: 1 s doubling, at most 5 min, 10 attempts, about 8.5 minutes; parked follow-ups: the batch three
    times with backoff 0.2 s, doubling."""
    import inspect

    from xueji_kit import timer_scheduler
    from xueji_kit.relay import OutboxRelay

    timers = section("Failed timers").replace("\n", " ")
    assert "(1 s, doubling, at most 5 min) up to 10 attempts, about 8.5 minutes" in timers
    assert timer_scheduler.MAX_ATTEMPTS == 10
    waits = [min(2**attempt, 300) for attempt in range(timer_scheduler.MAX_ATTEMPTS - 1)]
    assert round(sum(waits) / 60, 1) == 8.5
    assert "min(2**attempt, 300)" in inspect.getsource(timer_scheduler.TimerScheduler._fire_one)
    parked = section("Parked follow-ups").replace("\n", " ")
    assert "retries the batch three times with backoff (0.2 s, doubling)" in parked
    defaults = inspect.signature(OutboxRelay.__init__).parameters
    assert (defaults["follow_attempts"].default, defaults["follow_backoff"].default) == (3, 0.2)


def test_each_metric_an_alert_rule_reads_is_exposed() -> None:
    """The alerts the guide sends the engineer from (deploy/monitoring/alerts.rules.yml) read metrics that exist."""
    import yaml

    metrics = _load_metrics()
    rules = yaml.safe_load((ROOT / "deploy" / "monitoring" / "alerts.rules.yml").read_text())
    exprs = [r["expr"] for group in rules["groups"] for r in group["rules"]]
    read = {name for expr in exprs for name in re.findall(r"\b(xueji_[a-z_]+)\b", str(expr))}
    assert "xueji_timers_failed_total" in read
    assert {n for n in read if n not in metrics} == set()


def test_each_point_in_time_the_guide_resets_a_group_to_names_its_zone() -> None:
    """Kafka's `--to-datetime` reads a time without an offset in the zone of the JVM running the tool (the ops pod's,
    UTC), not the engineer's (China Standard Time): a restore caught up from `2026-09-01T02:00:00.000` meant in
    Beijing would start eight hours after the backup and never re-read what came in between. So every point in time
    the guide gives carries its zone, and a backup records its time as the reset takes it."""
    text = guide().replace("\\\n", " ")
    given = re.findall(r"--to-datetime (\S+)", text)
    assert given
    for value in given:
        assert value.startswith("<") or re.search(r"T[\d:.]+(Z|[+-]\d\d:\d\d)`?$", value), value
    backup = section("Restoring a database")
    assert "date +%F" not in backup, "the backup's file names its day only: step 3 needs its time"
    assert "date -u +%Y-%m-%dT%H:%M:%S.000Z" in backup
    assert "--all-topics" in backup, "a restore moves every group of the service, on every topic it read"


def _routes() -> set[tuple[str, str]]:
    """(method, path with every parameter as {}) of each service's HTTP API, and the paths every service serves."""
    from xueji_dedupe.app import create_app as dedupe
    from xueji_notify.app import create_app as notify
    from xueji_registry.app import create_app as registry
    from xueji_transfer.app import create_app as transfer

    found = set()
    for create in (registry, transfer, dedupe, notify):
        app = create()
        paths = {p: {m.upper() for m in ops} for p, ops in app.openapi()["paths"].items()}
        paths |= {
            r.path: set(r.methods) for r in app.routes if getattr(r, "path", None) and getattr(r, "methods", None)
        }
        found |= {(m, re.sub(r"\{[^}]+\}", "{}", path)) for path, methods in paths.items() for m in methods}
    return found


def test_each_http_request_the_guide_names_is_a_route() -> None:
    text = guide()
    named = set(re.findall(r"`(GET|POST|PUT|DELETE|PATCH) (/[^`\s]+)`", text))
    named |= {("GET", path) for path in re.findall(r"`(/(?:readyz|healthz|metrics|v1/[\w/{}<>-]+))`", text)}
    assert ("POST", "/v1/webhooks/<webhook_id>/activate") in named
    routes = _routes()
    for method, path in named:
        shape = re.sub(r"(\{[^}]+\}|<[^>]+>)", "{}", path)
        assert (method, shape) in routes, f"the guide names {method} {path}; no service serves it"


def test_each_class_and_error_type_the_guide_names_is_in_the_code() -> None:
    """Error types the engineer filters letters by (`--error-type RecordNotCreatedYet`), message types and classes."""
    import builtins

    named = {n for n in re.findall(r"`(?:--error-type )?([A-Z][a-z]+[A-Z]\w*)`", guide()) if not n.startswith("Xueji")}
    assert {"RecordNotCreatedYet", "NoRecordToDecide", "UnsupportedSchemaVersion", "DeadLetter"} <= named
    code = source_text()
    missing = {n for n in named if f"class {n}" not in code and not hasattr(builtins, n)}
    assert not missing, f"the guide names {missing}; no code defines them"
