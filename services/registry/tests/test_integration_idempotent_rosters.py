"""R46, R54 over HTTP and the real store: a roster's submission or review sent again with its Idempotency-Key, after
its first answer was not kept (the process stopped after answering, or the store refused the claim's write), runs the
route again; it must store nothing twice and answer what the first answer said.

Both submissions drew a fresh commit id on every run: the retry was refused as a second submission (409), and a
graduation roster the county bureau had returned meanwhile was submitted a second time by the retry. A return's
commit was the submission's number: retried after the school submitted again, it returned the new submission, which
the county bureau had not seen."""

from __future__ import annotations

import pytest
from http_fixtures import answer_not_kept, enrolled, keyed, signed_in

from xueji_registry.app import create_app
from xueji_registry.settings import RegistrySettings

pytestmark = pytest.mark.integration
SCHOOL = "3506020113"
GRADUATION = f"/v1/rosters/graduation/{SCHOOL}/2027/junior"
ANNUAL = f"/v1/rosters/annual/{SCHOOL}/2026"
_as = signed_in(SCHOOL)


async def test_r46_r54_a_roster_step_retried_with_its_key_is_stored_once_and_answered_as_the_first_time(
    start_app, dedupe_stub, token
):
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    junior = {"school_code": SCHOOL, "gender": "male", "birth_date": "2012-05-06", "grade": 9, "school_year": 2026}
    async with dedupe_stub():
        await enrolled(registry, _as(token), junior, "陈一")
    school = keyed(_as(token), "submit-graduation")
    submitted = await registry.post(f"{GRADUATION}/submission", json={}, headers=school)
    assert submitted.status_code == 201, submitted.text
    county, returning = keyed(_as(token, "county", "350602"), "return-graduation"), {"approve": False, "reason": "退回"}
    returned = await registry.post(f"{GRADUATION}/review", json=returning, headers=county)
    assert returned.status_code == 200, returned.text

    await answer_not_kept(registry, "submit-graduation")
    again = await registry.post(f"{GRADUATION}/submission", json={}, headers=school)
    assert "idempotent-replayed" not in again.headers  # the route ran again
    assert (again.status_code, again.json()) == (201, submitted.json())
    roster = (await registry.get(GRADUATION, headers=_as(token))).json()
    assert roster["status"] == "returned", roster  # the returned roster was not submitted a second time

    resubmitted = await registry.post(f"{GRADUATION}/submission", json={}, headers=_as(token))
    assert resubmitted.status_code == 201, resubmitted.text
    await answer_not_kept(registry, "return-graduation")
    returned_again = await registry.post(f"{GRADUATION}/review", json=returning, headers=county)
    assert "idempotent-replayed" not in returned_again.headers
    assert (returned_again.status_code, returned_again.json()) == (200, returned.json())
    roster = (await registry.get(GRADUATION, headers=_as(token))).json()
    assert roster["status"] == "submitted", roster  # the new submission awaits the county: the retry returned nothing

    annual = keyed(_as(token), "submit-annual")
    filed = await registry.post(f"{ANNUAL}/submission", json={}, headers=annual)
    assert filed.status_code == 201, filed.text
    await answer_not_kept(registry, "submit-annual")
    filed_again = await registry.post(f"{ANNUAL}/submission", json={}, headers=annual)
    assert "idempotent-replayed" not in filed_again.headers
    assert (filed_again.status_code, filed_again.json()) == (201, filed.json())
