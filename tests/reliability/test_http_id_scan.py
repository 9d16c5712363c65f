"""No raw ID number leaves through any route but the identity route (issue 15, R52): an end-to-end run over the four
services records every response, and every JSON one is scanned for resident ID numbers (bare or inside a G/L/J
status number) that pass GB 11643's check."""

from __future__ import annotations

import re
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "services" / "transfer" / "tests"))
from http_services import start_all
from transfer_driver import Clock, Driver, day

from xueji_contracts.identity import InvalidResidentId, validate_resident_id

pytestmark = pytest.mark.integration

SCHOOL = "3506020001"
PUPILS = [
    ("陈小雨", "350602201905010163", "female", "2019-05-01"),
    ("林小明", "11010519491231002X", "male", "1949-12-31"),
]
EXPLICIT = re.compile(r"^/v1/students/[^/]+/identity$")  # the one route that shows a full ID number
CANDIDATE = re.compile(r"(?<![0-9A-Za-z*])[GJLgjl]?(\d{17}[\dXx])(?![0-9A-Za-z])")


def raw_id_numbers(text: str) -> list[str]:
    found = []
    for candidate in CANDIDATE.findall(text):
        try:
            validate_resident_id(candidate.upper())
        except InvalidResidentId:
            continue
        found.append(candidate)
    return found


def _recording(client: Any, seen: list[tuple[str, str, str]]) -> None:
    async def record(response: Any) -> None:
        await response.aread()
        if "json" in response.headers.get("content-type", ""):
            seen.append((response.request.method, response.request.url.path, response.text))

    client.event_hooks["response"].append(record)


def _as(token: Any, role: str, code: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, code)}"}


@pytest.mark.timeout(300)
async def test_r52_no_json_answer_outside_the_identity_route_holds_a_raw_id_number(start_app, token, wait_for):
    services = await start_all(start_app)
    seen: list[tuple[str, str, str]] = []
    for client in services.all().values():
        _recording(client, seen)
    registry, notify, dedupe = services.registry, services.notify, services.dedupe
    school, county = _as(token, "school", SCHOOL), _as(token, "county", "350602")

    ids = []
    for name, id_number, gender, born in PUPILS:
        body = {"school_code": SCHOOL, "name": name, "id_number": id_number, "gender": gender, "birth_date": born,
                "grade": 1, "school_year": 2026}  # fmt: skip
        created = await registry.post("/v1/students", json=body, headers=school)
        assert created.status_code in (201, 202), created.text
        ids.append(created.json()["student_id"])
        again = await registry.post("/v1/students", json=body, headers=school)  # a duplicate: refused, naming why
        assert again.status_code in (201, 202, 409), again.text
        check = {**{k: body[k] for k in ("school_code", "name", "id_number", "gender", "birth_date")}}
        await dedupe.post("/v1/checks", json=check, headers=school)
    for student_id in ids:
        await wait_for(lambda sid=student_id: _enrolled(registry, sid, school))
        for who in (school, county):
            await registry.get(f"/v1/students/{student_id}", headers=who)
            await registry.get(f"/v1/students/{student_id}/history", headers=who)
            shown = await registry.get(f"/v1/students/{student_id}/identity", headers=who)
            assert shown.status_code == 200 and raw_id_numbers(shown.text), shown.text  # the scan finds them
        change = {"reason": "户籍更正", "details": {"kind": "death", "date_of_death": "2026-10-01"}}
        await registry.post(f"/v1/students/{student_id}/changes", json=change, headers=school)
        await registry.get(f"/v1/students/{student_id}/history", headers=county)
    for who in (school, county, _as(token, "province", "350000")):
        await registry.get("/v1/audit", headers=who)
    await registry.get(f"/v1/rosters/annual/{SCHOOL}/2026", headers=school)
    await wait_for(lambda: _notes(notify, county))
    for path in ("/v1/inbox", "/v1/dashboard/summary", "/v1/dashboard/compliance", "/v1/webhooks"):
        await notify.get(path, headers=county)
    await dedupe.get("/v1/review-cases", headers=county)

    driver = Driver(services.transfer, token, Clock(day(date(2025, 3, 10))))
    services.transfer.app.state.transfer.clock = driver.clock
    tid = await driver.apply()
    await driver.detail(tid)
    await driver.inbox("350602")

    leaking = [(m, p, raw_id_numbers(t)) for m, p, t in seen if not EXPLICIT.match(p) and raw_id_numbers(t)]
    assert len(seen) > 30
    assert not leaking, leaking


async def _enrolled(registry: Any, student_id: str, headers: dict[str, str]) -> bool:
    answer = await registry.get(f"/v1/students/{student_id}", headers=headers)
    return answer.status_code == 200 and answer.json().get("state") == "enrolled"


async def _notes(notify: Any, headers: dict[str, str]) -> bool:
    answer = await notify.get("/v1/inbox", headers=headers)
    return answer.status_code == 200 and bool(answer.json()["notifications"])
