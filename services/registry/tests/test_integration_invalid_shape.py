"""One 422 shape on every registry change route (issue 15, defect 10): whether the body breaks the route's schema or
a rule finds it invalid (R02, R40, R45, R46), `detail` lists each problem as `{field, reason, in}`, the field named
as the body holds it; a rule's refusal carries `rule` and `reason` beside `detail`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from http_fixtures import evidence_json as _evidence
from http_fixtures import graduation_semester, pupil, signed_in, this_term

from xueji_contracts.calendar import local_date
from xueji_registry.app import create_app
from xueji_registry.settings import RegistrySettings

pytestmark = pytest.mark.integration
SCHOOL = "3506020101"
PUPIL = pupil(SCHOOL, "郑可欣", "2012-04-02", 9)
GRADUATION_SEMESTER = graduation_semester()

_as = signed_in(SCHOOL)


def _uniform(answer) -> list[str]:
    """What is wrong with a 422's shape (nothing, if it is the project's)."""
    body = answer.json()
    detail = body.get("detail")
    if not isinstance(detail, list) or not detail:
        return [f"detail is not a list of problems: {body}"]
    wrong = []
    for problem in detail:
        if not isinstance(problem, dict) or set(problem) != {"field", "reason", "in"}:
            wrong.append(f"not {{field, reason, in}}: {problem}")
        elif not (problem["field"] and problem["reason"] and problem["in"] in {"body", "query", "path", "header"}):
            wrong.append(f"empty field or reason, or an unknown place: {problem}")
    return wrong


async def test_r02_r40_r45_r46_every_change_route_answers_422_in_one_shape(start_app, dedupe_stub, token):
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    async with dedupe_stub():
        created = await registry.post("/v1/students", json=PUPIL, headers=_as(token))
    assert created.status_code == 201, created.text
    student = created.json()["student_id"]
    school, county = _as(token), _as(token, "county", "350602")
    since = (local_date(datetime.now(UTC)) - timedelta(days=3)).isoformat()
    base = f"/v1/students/{student}"
    roster = f"/v1/rosters/graduation/{SCHOOL}/2027/junior"
    # Done first so that their repetition below is a rule's refusal.
    assert (await registry.post(f"{base}/status-file", json={"evidence": [_evidence("status_file")]},
                                headers=school)).status_code == 200  # fmt: skip
    assert (await registry.post(f"{base}/absence", json={"absent_since": since}, headers=school)).status_code == 200

    suspend = {"reason": "因病休学", "evidence": [_evidence("suspension_application"), _evidence("medical_certificate")],
               "details": {"kind": "suspend", "cause": "illness", "term": GRADUATION_SEMESTER}}  # fmt: skip
    exception = {
        "rule": "R40",
        "clause": "second_extension",
        "reason": "重病",
        "evidence": [_evidence("supporting_document")],
    }
    by_rule = {  # a body the schema takes and a rule refuses: (path, body, who) -> the field named
        "R40 graduation semester": (f"{base}/changes", suspend, school, "details.term"),
        "R40 no medical certificate": (f"{base}/changes", {**suspend, "details": {**suspend["details"], "term":
            this_term()}, "evidence": [_evidence("suspension_application")]}, school, "evidence"),
        "R40 absolute, no exception": (f"{base}/exceptions", exception, county, None),
        "R02 file recorded twice": (f"{base}/status-file", {"evidence": [_evidence("status_file")]}, school, None),
        "R45 absence recorded twice": (f"{base}/absence", {"absent_since": since}, school, "absent_since"),
        "R46 a stranger left off": (f"{roster}/submission", {"left_off": [{"student_id": "stu_x", "reason": "?"}]},
                                    school, "left_off"),
    }  # fmt: skip
    by_schema = {  # bodies the route's own model refuses
        "changes": (f"{base}/changes", {"reason": "", "details": {"kind": "nope"}}, school),
        "review": (f"{base}/changes/chg-1/review", {"approve": "maybe"}, county),
        "exceptions": (f"{base}/exceptions", {"rule": "X", "evidence": []}, county),
        "status-file": (f"{base}/status-file", {"evidence": []}, school),
        "absence": (f"{base}/absence", {"absent_since": "yesterday"}, school),
        "absence/end": (f"{base}/absence/end", {}, school),
        "freshman": (f"{base}/freshman", {"school_code": "1", "segment": "none"}, school),
        "graduation review": (f"{roster}/review", {"approve": 3}, county),
        "annual submission": (f"/v1/rosters/annual/{SCHOOL}/2026/submission", {"reason": ""}, school),
    }
    wrong: list[str] = []
    for name, (path, body, who, field) in by_rule.items():
        answer = await registry.post(path, json=body, headers=who)
        if answer.status_code != 422:
            wrong.append(f"{name}: {answer.status_code} {answer.text[:200]}")
            continue
        shape = _uniform(answer)
        wrong += [f"{name}: {problem}" for problem in shape]
        if shape:
            continue
        rule = name.split()[0]
        if answer.json().get("rule") != rule or not str(answer.json()["detail"][0]["reason"]).startswith(rule):
            wrong.append(f"{name}: the rule is not named beside and in the reason: {answer.text[:200]}")
        if field and answer.json()["detail"][0]["field"] != field:
            wrong.append(f"{name}: names {answer.json()['detail'][0]['field']}, not {field}")
    for name, (path, body, who) in by_schema.items():
        answer = await registry.post(path, json=body, headers=who)
        if answer.status_code != 422:
            wrong.append(f"{name}: {answer.status_code} {answer.text[:200]}")
            continue
        wrong += [f"{name}: {problem}" for problem in _uniform(answer)]
    # A roster of a segment the school has no graduate in: the field is the path's.
    senior = await registry.get(f"/v1/rosters/graduation/{SCHOOL}/2027/senior", headers=school)
    assert senior.status_code == 422, senior.text
    assert senior.json()["detail"] == [
        {"field": "segment", "reason": senior.json()["detail"][0]["reason"], "in": "path"}
    ]
    assert not wrong, "\n".join(wrong)
