"""RULES "Exceptions" across services over the real broker and store: an exception the county bureau records in the
registry (R08 here: a second reissue of a lost certificate; dedupe real too) reaches notify on rules.exception.v1; the county sees it
in its inbox and on the dashboard, and another county does not (R50)."""

from __future__ import annotations

import hashlib

import pytest

from xueji_dedupe.app import create_app as create_dedupe
from xueji_dedupe.settings import DedupeSettings
from xueji_notify.app import create_app as create_notify
from xueji_notify.settings import NotifySettings
from xueji_registry.app import create_app as create_registry
from xueji_registry.settings import RegistrySettings

pytestmark = pytest.mark.integration
SCHOOL = "3506020401"
GRADUATE = {"school_code": SCHOOL, "name": "王思远", "gender": "male", "birth_date": "2011-06-01", "grade": 6,
            "school_year": 2026}  # fmt: skip


def _as(token, role: str, code: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, code)}"}


def _evidence(kind: str) -> dict[str, str]:
    return {"kind": kind, "uri": f"s3://evidence/{kind}.pdf", "sha256": hashlib.sha256(kind.encode()).hexdigest()}


async def test_r08_second_reissue_refused_unless_bureau_exception_and_the_county_sees_it_on_the_dashboard(
    start_app, token, wait_for
):
    await start_app(create_dedupe, DedupeSettings, national_enabled=False)
    notify = await start_app(create_notify, NotifySettings)
    registry = await start_app(create_registry, RegistrySettings, scheduler_enabled=False)
    school, county = _as(token, "school", SCHOOL), _as(token, "county", "350602")
    created = await registry.post("/v1/students", json=GRADUATE, headers=school)
    assert created.status_code == 201, created.text
    student = created.json()["student_id"]
    changes = f"/v1/students/{student}/changes"
    # A primary diploma is signed by the principal alone (002 III.14): it takes effect at once.
    graduate = {"reason": "小学毕业", "details": {"kind": "graduate", "graduation_year": 2027}}  # the school's digits
    done = await registry.post(changes, json=graduate, headers=school)
    assert done.status_code == 200 and done.json()["state"] == "graduated", done.text
    history = f"/v1/students/{student}/history"
    entries = (await registry.get(history, headers=county)).json()["history"]
    number = next(e["certificate_number"] for e in entries if e["type"] == "graduated")

    reissue = {"reason": "毕业证书遗失", "evidence": [_evidence("loss_statement")],
               "details": {"kind": "reissue_certificate", "certificate_number": number}}  # fmt: skip

    async def reissued() -> None:
        asked = await registry.post(changes, json=reissue, headers=school)
        assert asked.status_code == 200, asked.text
        (pending,) = asked.json()["pending_changes"]
        review = f"{changes}/{pending['change_id']}/review"
        approved = await registry.post(review, json={"approve": True, "reason": "审核补发"}, headers=county)
        assert approved.status_code == 200, approved.text

    await reissued()
    second = await registry.post(changes, json=reissue, headers=school)
    assert second.status_code == 422 and second.json()["rule"] == "R08", second.text

    exception = {"rule": "R08", "clause": "second_reissue", "certificate_number": number,
                 "reason": "补发证书在邮寄中遗失，经县教育局核实", "evidence": [_evidence("supporting_document")]}  # fmt: skip
    by_school = await registry.post(f"/v1/students/{student}/exceptions", json=exception, headers=school)
    assert by_school.status_code == 403 and "R08" in by_school.text
    recorded = await registry.post(f"/v1/students/{student}/exceptions", json=exception, headers=county)
    assert recorded.status_code == 200, recorded.text
    await reissued()
    entries = (await registry.get(history, headers=county)).json()["history"]
    reissues = [e for e in entries if e["type"] == "certificate_reissued"]
    assert len(reissues) == 2 and reissues[1]["exception_id"] == recorded.json()["exception_id"]

    async def on_dashboard() -> dict | None:
        board = (await notify.get("/v1/dashboard/exceptions", headers=county)).json()
        return board if board["total"] == 1 else None

    board = await wait_for(on_dashboard)
    (shown,) = board["exceptions"]
    assert (shown["rule"], shown["clause"], shown["authority"], shown["jurisdiction"]) == (
        "R08", "second_reissue", "county", "350602"
    )  # fmt: skip
    assert shown["reason"].startswith("补发证书") and shown["evidence"] and shown["operator"]
    inbox = (await notify.get("/v1/inbox", headers=county)).json()
    notes = inbox["notifications"] if isinstance(inbox, dict) else inbox
    assert any(n["kind"] == "rule_exception" and n["jurisdiction"] == "350602" for n in notes), inbox
    elsewhere = (await notify.get("/v1/dashboard/exceptions", headers=_as(token, "county", "350603"))).json()
    assert elsewhere["total"] == 0
