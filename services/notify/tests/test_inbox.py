"""The inbox over the real broker and store: every consumed event kind, filters, read, acknowledge (R22, R23, R50)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import notify_events as ev
import pytest

from xueji_notify.app import create_app
from xueji_notify.settings import NotifySettings

pytestmark = pytest.mark.integration


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _inbox(client, token, **params) -> list[dict]:
    answer = await client.get("/v1/inbox", params=params, headers=_auth(token))
    assert answer.status_code == 200, answer.text
    return answer.json()["notifications"]


async def test_r22_r23_every_transfer_event_reaches_the_right_inbox_once(start_app, isolation, token, wait_for):
    notify = await start_app(create_app, NotifySettings)
    tid, late = ev.transfer_id(), ev.transfer_id()
    first = ev.opened(tid)
    due_at = first.payload.deadline.due_at
    late_opened = ev.opened(late, ev.COUNTY, stage="receiving_bureau", step=4)
    async with ev.Upstream(isolation) as upstream:
        await upstream.send(first, first, ev.warning(tid, due_at), late_opened)  # the opening twice: a redelivery
        await upstream.send(ev.breached(late, late_opened.payload.deadline.due_at, ev.COUNTY, stage="receiving_bureau",
                                        to=ev.CITY_CODE, level="city"))  # fmt: skip
        await upstream.send(ev.case(tid, "offline_opened"), ev.case(tid, "reconciled"))
        await upstream.send(ev.closed(tid, decision="approve"))

    school, county, city = token("school", ev.SCHOOL), token("county", ev.COUNTY), token("city", ev.CITY_CODE)

    async def school_has_all():
        notes = await _inbox(notify, school)
        return notes if len(notes) == 5 else None

    notes = await wait_for(school_has_all)
    assert sorted(n["kind"] for n in notes) == sorted(
        ["stage_opened", "stage_warning", "offline_opened", "reconciled", "stage_decided"]
    )
    assert all(n["title_zh"] and n["title_en"] for n in notes)

    # The county sees its school's five, its own stage and its breach; the city the escalation too.
    # Messages keyed by another transfer may be handled later than the school's: wait for them too.
    async def county_has_both():
        kinds = sorted(n["kind"] for n in await _inbox(notify, county) if n["jurisdiction"] == ev.COUNTY)
        return kinds if len(kinds) >= 2 else None

    assert await wait_for(county_has_both) == ["stage_breached", "stage_opened"]
    escalated = await wait_for(lambda: _inbox(notify, city, kind="stage_escalated"))
    assert [n["jurisdiction"] for n in escalated] == [ev.CITY_CODE]
    assert await _inbox(notify, county, kind="stage_escalated") == []
    # R50: another county sees none of it, and may not ask for this school.
    far = token("county", ev.FAR_COUNTY)
    assert await _inbox(notify, far) == []
    refused = await notify.get("/v1/inbox", params={"jurisdiction": ev.SCHOOL}, headers=_auth(far))
    assert refused.status_code == 403 and "outside the jurisdiction" in refused.json()["detail"]


async def test_r50_inbox_filters_read_and_acknowledge(start_app, isolation, token, wait_for):
    notify = await start_app(create_app, NotifySettings)
    soon, later = ev.transfer_id(), ev.transfer_id()
    today = datetime.now(UTC).date()
    async with ev.Upstream(isolation) as upstream:
        await upstream.send(
            ev.opened(soon, due=today + timedelta(days=3)), ev.opened(later, due=today + timedelta(days=20))
        )
        await upstream.send(ev.opened(ev.transfer_id(), ev.OTHER_SCHOOL))
    county, clerk = token("county", ev.COUNTY), token("school", ev.SCHOOL)
    await wait_for(lambda: _has(notify, county, 3))

    mine = await _inbox(notify, county, jurisdiction=ev.SCHOOL)
    assert {n["subject_id"] for n in mine} == {soon, later}
    week = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    assert [n["subject_id"] for n in await _inbox(notify, county, due_before=week)] == [soon]
    assert len(await _inbox(notify, county, kind="stage_opened")) == 3
    assert await _inbox(notify, county, kind="stage_breached") == []

    target = next(n for n in mine if n["subject_id"] == soon)["notification_id"]
    for _ in range(2):  # idempotent
        answer = await notify.post(f"/v1/inbox/{target}/read", headers=_auth(clerk))
        assert answer.status_code == 200 and answer.json()["read"] is True
    assert {n["subject_id"] for n in await _inbox(notify, clerk, unread="true")} == {later}
    assert len(await _inbox(notify, county, unread="true")) == 3  # read is per operator

    first = await notify.post(f"/v1/inbox/{target}/acknowledge", headers=_auth(clerk))
    again = await notify.post(f"/v1/inbox/{target}/acknowledge", headers=_auth(county))
    assert first.status_code == again.status_code == 200
    assert again.json()["acknowledged_by"] == "t-school" and again.json()["acknowledged_code"] == ev.SCHOOL

    other = token("school", ev.OTHER_SCHOOL)
    assert (await notify.post(f"/v1/inbox/{target}/acknowledge", headers=_auth(other))).status_code == 404  # R50
    assert (await notify.get("/v1/inbox/nope", headers=_auth(other))).status_code == 404
    bad = await notify.get("/v1/inbox", params={"kind": "gossip"}, headers=_auth(county))
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "kind"


async def _has(client, token, n):
    notes = await _inbox(client, token)
    return notes if len(notes) >= n else None


async def test_r02_r22_the_inbox_as_a_to_do_list_shows_each_deadline_and_stage_once_as_it_is_now(
    start_app, isolation, token, wait_for
):
    """`current=true`: a deadline's notices (to do, overdue to the school and flagged to the county) are one line, the
    county's own copy for the county; a deadline met and a stage approved are gone; an escalation stays a line."""
    notify = await start_app(create_app, NotifySettings)
    file = {"kind": "status_file", "rule": "R02"}
    tid = ev.transfer_id()
    first = ev.opened(tid, ev.COUNTY, stage="receiving_bureau", step=4)
    async with ev.Upstream(isolation) as upstream:
        await upstream.send(
            ev.compliance("stu_a:R02", "opened", **file),
            ev.compliance("stu_b:R02", "opened", **file),
            ev.compliance("stu_b:R02", "overdue", flagged_to=ev.COUNTY, **file),
            ev.compliance("stu_c:R02", "opened", **file),
            ev.compliance("stu_c:R02", "met", **file),
            topic="registry.compliance.v1",
        )
        await upstream.send(first)
        await upstream.send(ev.warning(tid, first.payload.deadline.due_at, ev.COUNTY, stage="receiving_bureau"))
    county = token("county", ev.COUNTY)

    async def all_in() -> list[dict] | None:
        notes = await _inbox(notify, county)
        return notes if len(notes) == 8 else None

    await wait_for(all_in)
    lines = await _inbox(notify, county, current="true")
    seen = sorted((n["kind"], n["subject_id"] if n["kind"] != "compliance" else n["details"]["deadline_id"],
                   n["details"].get("state", ""), n["jurisdiction"]) for n in lines)  # fmt: skip
    assert seen == [
        ("compliance", "stu_a:R02", "opened", ev.SCHOOL),
        ("compliance", "stu_b:R02", "overdue", ev.COUNTY),
        ("stage_warning", tid, "", ev.COUNTY),
    ]
    school = await _inbox(notify, token("school", ev.SCHOOL), current="true")
    assert sorted(n["details"]["deadline_id"] for n in school) == ["stu_a:R02", "stu_b:R02"]
