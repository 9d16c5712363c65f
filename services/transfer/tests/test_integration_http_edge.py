"""Transfer's HTTP edge against outsiders (issue 15, R50): who may act is checked before anything about the case is
said, so an operator outside every party's jurisdiction hears exactly what a missing case answers."""

from __future__ import annotations

from datetime import date

import pytest
from transfer_driver import RECEIVING, SENDING, application, day, evidence, start

pytestmark = pytest.mark.integration

MISSING = "tr_0123456789abcdef0123456789abcdef"


def _same_answer(real, missing, tid: str, status: int = 404) -> None:
    assert real.status_code == missing.status_code == status, (real.status_code, real.text, missing.text)
    assert real.json() == {k: (v.replace(MISSING, tid) if isinstance(v, str) else v) for k, v in missing.json().items()}


async def test_r50_an_operator_of_another_province_learns_nothing_of_a_case_from_any_route(start_app, token):
    t = await start(start_app, token, day(date(2025, 9, 1)))
    graduate = application(
        kind="progression", status="graduated", graduated_on="2025-07-01", grade=6, target_grade=7, term=None
    )
    tid = await t.apply(graduate)
    await t.complete(tid)
    routes = [
        ("GET", "", None),
        ("POST", "/rollback", {"reason": "mistake"}),
        ("POST", "/paper-file", {"method": "mailed"}),
        ("POST", "/materials", {"materials": [evidence("reason_proof")]}),
        ("POST", "/examination", {"conditions_met": True, "vacancy": True}),
        ("POST", "/notify-to-report", None),
        ("POST", "/report", {"electronic_file": evidence("electronic_file")}),
        ("POST", "/offline/system-failure", {"description": "down", "guardian_requested": True}),
        ("POST", "/offline/consent", {"signed_form": evidence("signed_registration_form")}),
        ("POST", "/offline/acceptance", {"record": {}}),
        ("POST", "/stages/receiving_school/decision", {"decision": "approve"}),
        ("POST", "/stages/sending_bureau/decision", {"decision": "approve"}),
    ]
    # Another province's operators are refused at the door, this deployment serving Fujian alone (R50); Fujian's
    # outsider hears what a missing case answers.
    outsiders = [("province", "430000"), ("county", "430102"), ("school", "4301020002"), ("county", "350203")]
    for who in outsiders:
        for method, suffix, body in routes:
            real = await t.call(method, f"/v1/transfers/{tid}{suffix}", who, body)
            missing = await t.call(method, f"/v1/transfers/{MISSING}{suffix}", who, body)
            _same_answer(real, missing, tid, 404 if who[1].startswith("35") else 401)
    # The parties themselves still hear why they may not act (R33: a county bureau rolls back).
    by_school = await t.call("POST", f"/v1/transfers/{tid}/rollback", ("school", RECEIVING), {"reason": "mistake"})
    assert by_school.status_code == 403 and by_school.json()["rule"] == "R33"
    paper = await t.call("POST", f"/v1/transfers/{tid}/paper-file", ("school", SENDING), {"method": "mailed"})
    assert paper.status_code == 200, paper.text
