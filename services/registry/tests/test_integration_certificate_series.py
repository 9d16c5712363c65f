"""R08 over HTTP and the real store: graduation certificate numbers follow the R07 layout (B, the graduation year, the
school's digits, a sequence), so two schools whose codes compose the same digits share one number series. Their
certificates are numbered from that series' one sequence, continuous with no broken codes, even when both rosters are
submitted and approved at once; a reissue keeps the lost certificate's number and takes none of the series'."""

from __future__ import annotations

import asyncio

import pytest
from http_fixtures import enrolled, evidence_json, signed_in

from xueji_registry.app import create_app
from xueji_registry.settings import RegistrySettings

pytestmark = pytest.mark.integration
# Junior layout S yy CC SS NNNN: county 02, school 12 for both (the township digits are left out), so both give B2270212.
TOWNSHIP_01, TOWNSHIP_02 = "3506020112", "3506020212"
FUZHOU_GULOU = "3501020112"  # another city's county 02, school 12: the same series again
SERIES = "B2270212"

_as = signed_in(TOWNSHIP_01)


def _junior(school: str) -> dict[str, object]:
    return {"school_code": school, "gender": "male", "birth_date": "2012-05-06", "grade": 9, "school_year": 2026}


def _roster(school: str) -> str:
    return f"/v1/rosters/graduation/{school}/2027/junior"


async def _certificate_of(registry, token, school: str, student: str) -> str:
    history = (await registry.get(f"/v1/students/{student}/history", headers=_as(token, code=school))).json()
    [number] = [e["certificate_number"] for e in history["history"] if e["type"] == "graduated"]
    return number


async def _graduated_together(registry, token, schools: dict[str, list[str]], county: str) -> dict[str, str]:
    """Both schools submit at once, then their county bureau approves both at once: each student's certificate."""
    submitted = await asyncio.gather(
        *(registry.post(f"{_roster(s)}/submission", json={}, headers=_as(token, code=s)) for s in schools)
    )
    assert [r.status_code for r in submitted] == [201] * len(schools), [r.text for r in submitted]
    bureau = _as(token, "county", county)
    approved = await asyncio.gather(
        *(registry.post(f"{_roster(s)}/review", json={"approve": True, "reason": "审核通过"}, headers=bureau)
          for s in schools)
    )  # fmt: skip
    for school, answer in zip(schools, approved, strict=True):
        assert answer.status_code == 200 and sorted(answer.json()["graduated"]) == sorted(schools[school]), answer.text
    return {
        student: await _certificate_of(registry, token, school, student)
        for school, students in schools.items()
        for student in students
    }


async def test_r08_two_schools_of_one_series_never_give_one_certificate_number_and_a_reissue_keeps_its_own(
    start_app, dedupe_stub, token
):
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    async with dedupe_stub():
        first = await enrolled(registry, _as(token), _junior(TOWNSHIP_01), "林一", "林二", "林三")
        second = await enrolled(registry, _as(token, code=TOWNSHIP_02), _junior(TOWNSHIP_02), "陈一", "陈二")
        gulou = await enrolled(registry, _as(token, code=FUZHOU_GULOU), _junior(FUZHOU_GULOU), "黄一")

    numbers = await _graduated_together(registry, token, {TOWNSHIP_01: first, TOWNSHIP_02: second}, "350602")
    assert len(set(numbers.values())) == 5, numbers  # one number, one certificate
    assert all(n.startswith(SERIES) for n in numbers.values()), numbers
    assert sorted(n[len(SERIES) :] for n in numbers.values()) == ["0001", "0002", "0003", "0004", "0005"]  # no gap

    # R08: the lost certificate is reissued under its own number; the series gives no number for it.
    student, lost = first[0], numbers[first[0]]
    reissue = {"reason": "毕业证遗失", "evidence": [evidence_json("loss_statement")],
               "details": {"kind": "reissue_certificate", "certificate_number": lost}}  # fmt: skip
    asked = await registry.post(f"/v1/students/{student}/changes", json=reissue, headers=_as(token))
    assert asked.status_code == 200, asked.text
    (pending,) = asked.json()["pending_changes"]
    review = f"/v1/students/{student}/changes/{pending['change_id']}/review"
    county = _as(token, "county", "350602")
    reviewed = await registry.post(review, json={"approve": True, "reason": "审核补发"}, headers=county)
    assert reviewed.status_code == 200, reviewed.text
    history = (await registry.get(f"/v1/students/{student}/history", headers=_as(token))).json()["history"]
    assert [e["certificate_number"] for e in history if e["type"] == "certificate_reissued"] == [lost]

    # Another city's school of the same series numbers on from the series' top, not from its own first number.
    later = await _graduated_together(registry, token, {FUZHOU_GULOU: gulou}, "350102")
    assert list(later.values()) == [f"{SERIES}0006"]


# Primary layout 1 yy CC TT SS NNNN: county 02, township 01, school 12 in both cities, so both give B127020112.
PRIMARY_SERIES = "B127020112"


def _pupil(school: str) -> dict[str, object]:
    return {"school_code": school, "gender": "female", "birth_date": "2015-03-04", "grade": 6, "school_year": 2026}


def _graduation(numbering: dict[str, str], **more: object) -> dict[str, object]:
    return {"kind": "graduate", "graduation_year": 2027, "numbering": numbering, **more}


async def _graduated_by_change(registry, headers, student: str, details: dict[str, object], evidence=()) -> dict:
    body = {"reason": "毕业", "evidence": list(evidence), "details": details}
    return await registry.post(f"/v1/students/{student}/changes", json=body, headers=headers)


async def test_r08_graduations_through_the_changes_api_draw_their_certificate_numbers_from_the_series(
    start_app, dedupe_stub, token
):
    """Two primary schools of one series graduate pupils through the changes API (a primary diploma takes effect at
    once): each certificate takes the series' next number, drawn by the registry (a caller's certificate_sequence is
    refused, not silently ignored: it would print a number the registry never gave). A junior school graduating a
    student with roster evidence (requested, then approved by the county) draws from the series the roster path of
    another school of the series draws from: no number twice, no broken code."""
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    async with dedupe_stub():
        zhangzhou = await enrolled(registry, _as(token), _pupil(TOWNSHIP_01), "吴一", "吴二")
        gulou = await enrolled(registry, _as(token, code=FUZHOU_GULOU), _pupil(FUZHOU_GULOU), "郭一")
        by_change = await enrolled(registry, _as(token), _junior(TOWNSHIP_01), "周一")
        by_roster = await enrolled(registry, _as(token, code=TOWNSHIP_02), _junior(TOWNSHIP_02), "许一", "许二")

    at = {"county": "02", "township": "01", "school": "12"}
    chosen = await _graduated_by_change(registry, _as(token), zhangzhou[0], _graduation(at, certificate_sequence=1))
    assert chosen.status_code == 422, chosen.text  # the caller no longer chooses it: refused, naming the field
    assert chosen.json()["rule"] == "R08" and chosen.json()["detail"][0]["field"] == "details.certificate_sequence"
    pupils = [(TOWNSHIP_01, s) for s in zhangzhou] + [(FUZHOU_GULOU, s) for s in gulou]
    answered = {}
    for school, student in pupils:
        done = await _graduated_by_change(registry, _as(token, code=school), student, _graduation(at))
        assert done.status_code == 200 and done.json()["state"] == "graduated", done.text
        answered[student] = done.json()["certificate_number"]  # the number drawn, in the answer (no history read)
    primary = {student: await _certificate_of(registry, token, school, student) for school, student in pupils}
    assert sorted(primary.values()) == [f"{PRIMARY_SERIES}000{n}" for n in (1, 2, 3)], primary  # one each, no gap
    assert answered == primary

    # Junior: one student through the changes API with roster evidence, the other school's through its roster.
    junior = {"county": "02", "school": "12"}
    (student,) = by_change
    asked = await _graduated_by_change(
        registry, _as(token), student, _graduation(junior), [evidence_json("graduation_roster")]
    )
    assert asked.status_code == 200, asked.text
    (pending,) = asked.json()["pending_changes"]
    review = f"/v1/students/{student}/changes/{pending['change_id']}/review"
    approved = await registry.post(
        review, json={"approve": True, "reason": "审核通过"}, headers=_as(token, "county", "350602")
    )
    assert approved.status_code == 200 and approved.json()["state"] == "graduated", approved.text
    assert "certificate_number" not in asked.json()  # requested, not yet graduated: no number drawn
    numbers = await _graduated_together(registry, token, {TOWNSHIP_02: by_roster}, "350602")
    numbers[student] = await _certificate_of(registry, token, TOWNSHIP_01, student)
    assert approved.json()["certificate_number"] == numbers[student]  # the county's approval answers the number
    assert sorted(numbers.values()) == [f"{SERIES}000{n}" for n in (1, 2, 3)], numbers


async def test_r08_r07_a_graduation_s_numbering_is_its_school_s_and_another_school_s_is_refused(
    start_app, dedupe_stub, token
):
    """The certificate number carries the digits of the school the student graduates from (R08 follows R07's layout:
    the school that registered the segment's freshman gives its number). A caller's numbering that composes another
    school's digits drew that school's series; it is refused (422 naming details.numbering and both series), and
    one left out is the record's own school's."""
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    async with dedupe_stub():
        pupils = await enrolled(registry, _as(token), _pupil(TOWNSHIP_01), "吴一", "吴二")

    another = {"county": "02", "township": "02", "school": "12"}  # 3506020212's digits
    refused = await _graduated_by_change(registry, _as(token), pupils[0], _graduation(another))
    assert refused.status_code == 422, refused.text
    assert refused.json()["rule"] == "R08" and refused.json()["detail"][0]["field"] == "details.numbering"
    assert "B127020212NNNN" in refused.text and f"{PRIMARY_SERIES}NNNN" in refused.text, refused.text
    record = (await registry.get(f"/v1/students/{pupils[0]}/history", headers=_as(token))).json()
    assert [e["type"] for e in record["history"] if e["type"] == "graduated"] == [], "refused: nothing recorded"

    derived = {"kind": "graduate", "graduation_year": 2027}  # no numbering: the record's school's
    for student in pupils:
        done = await _graduated_by_change(registry, _as(token), student, derived)
        assert done.status_code == 200 and done.json()["state"] == "graduated", done.text
    numbers = [await _certificate_of(registry, token, TOWNSHIP_01, s) for s in pupils]
    assert numbers == [f"{PRIMARY_SERIES}0001", f"{PRIMARY_SERIES}0002"], "the school's series, no number taken before"
