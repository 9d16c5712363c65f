"""The authorization matrix (issue 15, R50, R52): every route of every service, called about a real student and a
real transfer case by operators of every level outside their jurisdiction and with forged tokens. An outsider
hears exactly what a missing resource answers and sees none of the student's details; a forged token gets 401.

Each route is called with the smallest request its OpenAPI document allows (hypothesis `find`), its path naming
the seeded student or case."""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
import schemathesis
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, Phase, given, settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "services" / "transfer" / "tests"))
from http_services import ENDLESS, as_httpx
from transfer_driver import Clock, Driver, day

from xueji_dedupe.app import create_app as create_dedupe
from xueji_dedupe.settings import DedupeSettings
from xueji_notify.app import create_app as create_notify
from xueji_notify.settings import NotifySettings
from xueji_registry.app import create_app as create_registry
from xueji_registry.settings import RegistrySettings
from xueji_transfer.app import create_app as create_transfer
from xueji_transfer.settings import TransferSettings

pytestmark = pytest.mark.integration

SCHOOL = "3506020001"  # the student's school; the case runs from 3501020003 to it
RAW_ID = "350602201905010163"
NAME = "陈小雨"
STUDENT = {"school_code": SCHOOL, "name": NAME, "id_number": RAW_ID, "gender": "female",
           "birth_date": "2019-05-01", "grade": 1, "school_year": 2026}  # fmt: skip
OUTSIDERS = [("school", "3506020002"), ("county", "350603"), ("city", "350500"), ("province", "430000")]
MISSING = {"student_id": "stu_00000000000000000000000000000000", "transfer_id": "tr_00000000000000000000000000000000",
           "notification_id": "00000000-0000-0000-0000-000000000000", "webhook_id": "wh_0000000000000000"}  # fmt: skip


def _forged(signing_keys: tuple[str, str]) -> dict[str, str]:
    now = datetime.now(UTC)
    claims = {"sub": "x", "role": "province", "code": "350000", "iss": "xueji", "aud": "xueji",
              "iat": now, "exp": now + timedelta(hours=1)}  # fmt: skip
    other = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    unsigned = jwt.encode(claims, key=None, algorithm="none")  # type: ignore[arg-type]
    return {
        "alg none": unsigned,
        "wrong key": jwt.encode(claims, other, algorithm="EdDSA"),
        "expired": jwt.encode({**claims, "exp": now - timedelta(minutes=1)}, signing_keys[0], algorithm="EdDSA"),
        "other audience": jwt.encode({**claims, "aud": "elsewhere"}, signing_keys[0], algorithm="EdDSA"),
        "no role": jwt.encode({k: v for k, v in claims.items() if k != "role"}, signing_keys[0], algorithm="EdDSA"),
        "garbage": "not.a.token",
    }


def _smallest_cases(client: Any) -> list[Any]:
    schema = schemathesis.openapi.from_dict(client.app.openapi())
    cases = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in ENDLESS or not operation.path.startswith("/v1/"):
            continue
        cases.append(_one(operation))
    return cases


def _one(operation: Any) -> Any:
    """One schema-valid request of the operation, the same every run."""
    drawn: list[Any] = []

    @settings(max_examples=1, phases=[Phase.generate], database=None, derandomize=True, deadline=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(case=operation.as_strategy())
    def draw(case: Any) -> None:
        drawn.append(case)

    draw()
    return drawn[0]


async def _send(client: Any, case: Any, token: str | None, ids: dict[str, str]) -> Any:
    params = case.path_parameters or {}
    case.path_parameters = {k: ids.get(k, v) for k, v in params.items()}
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return await asyncio.wait_for(client.request(**as_httpx(case, headers)), 30)


def _body_refused(answer: Any) -> bool:
    """The body guard refuses a body by itself (size, UTF-8, control characters) before any token is read: it says
    nothing about a resource, so it may answer a forged token too."""
    guard = ("control or bidirectional", "not valid UTF-8", "larger than")
    return answer.status_code in (413, 422) and any(reason in answer.text for reason in guard)


def _without(text: str, ids: dict[str, str]) -> str:
    for value in ids.values():
        text = text.replace(value, "<id>")
    return text


@pytest.mark.timeout(600)
async def test_r50_r52_no_route_answers_an_outsider_or_a_forged_token(start_app, token, signing_keys, wait_for):
    registry = await start_app(create_registry, RegistrySettings, scheduler_enabled=False)
    dedupe = await start_app(create_dedupe, DedupeSettings, national_enabled=False)
    notify = await start_app(create_notify, NotifySettings)
    transfer = await start_app(create_transfer, TransferSettings, scheduler_enabled=False)
    school = {"Authorization": f"Bearer {token('school', SCHOOL)}"}
    created = await registry.post("/v1/students", json=STUDENT, headers=school)
    assert created.status_code in (201, 202), created.text
    student_id = created.json()["student_id"]
    driver = Driver(transfer, token, Clock(day(date(2025, 3, 10))))  # inside the application's term (R27)
    transfer.app.state.transfer.clock = driver.clock
    transfer_id = await driver.apply()
    county = {"Authorization": f"Bearer {token('county', '350602')}"}
    await wait_for(lambda: _has_notes(notify, token("county", "350602")))
    notes = (await notify.get("/v1/inbox", headers=county)).json()["notifications"]
    hook = {"url": "https://example.org/h", "jurisdiction": "350602", "consent_reference": "闽教基〔2026〕12号"}
    webhook = await notify.post("/v1/webhooks", json=hook, headers=county)
    assert webhook.status_code == 201, webhook.text
    seeded = {"student_id": student_id, "transfer_id": transfer_id, "notification_id": notes[0]["notification_id"],
              "webhook_id": webhook.json()["webhook_id"]}  # fmt: skip

    leaks: list[str] = []
    forged = _forged(signing_keys)
    for name, client in {"registry": registry, "transfer": transfer, "dedupe": dedupe, "notify": notify}.items():
        cases = await asyncio.to_thread(_smallest_cases, client)
        for case in cases:
            route = f"{name} {case.method} {case.operation.path}"
            started = time.monotonic()
            names_seeded = bool(set(case.path_parameters or {}) & set(seeded))
            for who in OUTSIDERS:
                real = await _send(client, case, token(*who), seeded)
                if real.status_code >= 500:
                    leaks.append(f"{route} as {who}: {real.status_code} {real.text[:200]}")
                body = _without(real.text, {k: v for k, v in seeded.items() if v in str(real.request.url)})
                if any(secret in body for secret in (RAW_ID, NAME, "350602********0163", *seeded.values())):
                    leaks.append(f"{route} as {who}: {real.status_code} shows the student or case: {real.text[:300]}")
                if names_seeded:
                    missing = await _send(client, case, token(*who), MISSING)
                    if (real.status_code, _without(real.text, seeded)) != (
                        missing.status_code,
                        _without(missing.text, MISSING),
                    ):
                        leaks.append(f"{route} as {who}: {real.status_code} {real.text[:200]} but missing: "
                                     f"{missing.status_code} {missing.text[:200]}")  # fmt: skip
            for kind, forgery in [*forged.items(), ("none", None)]:
                answer = await _send(client, case, forgery, seeded)
                if answer.status_code != 401 and not _body_refused(answer):
                    leaks.append(f"{route} with a {kind} token: {answer.status_code} {answer.text[:200]}")
            print(f"{route}: {time.monotonic() - started:.2f} s")
    assert not leaks, "\n".join(leaks)


async def _has_notes(notify: Any, county_token: str) -> bool:
    answer = await notify.get("/v1/inbox", headers={"Authorization": f"Bearer {county_token}"})
    return answer.status_code == 200 and bool(answer.json()["notifications"])
