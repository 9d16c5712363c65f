"""'Assign to me' on an open stage (issue 18): it persists, the latest stands, and only the stage's jurisdiction or the
level it escalated to may take it (R50)."""

from __future__ import annotations

import dashboard_seed
import notify_events as ev
import pytest

from xueji_notify.app import create_app
from xueji_notify.settings import NotifySettings

pytestmark = pytest.mark.integration


async def test_r50_a_stage_is_assigned_within_its_jurisdiction_and_the_assignment_persists(
    start_app, isolation, token, wait_for
):
    notify = await start_app(create_app, NotifySettings, dashboard_interval_seconds=0.2)
    seeded = dashboard_seed.province()
    async with ev.Upstream(isolation) as upstream:
        await upstream.send(*seeded.messages)
    late = seeded.late_stage.payload
    key = f"{late.transfer_id}:{late.stage.value}"
    county = late.jurisdiction[:6]
    as_county = {"Authorization": f"Bearer {token('county', county)}"}

    async def stage_known() -> bool:
        answer = await notify.get(f"/v1/dashboard/stages/{key}", headers=as_county)
        return answer.status_code == 200

    await wait_for(stage_known)
    taken = await notify.put(f"/v1/dashboard/stages/{key}/assignee", headers=as_county)
    assert taken.status_code == 200, taken.text
    assert taken.json()["assignee"] == "t-county"
    assert (await notify.get(f"/v1/dashboard/stages/{key}/assignee", headers=as_county)).json()[
        "assignee"
    ] == "t-county"
    listed = (await notify.get("/v1/dashboard/assignees", params={"node": county}, headers=as_county)).json()
    assert [a["key"] for a in listed["assignments"]] == [key]

    elsewhere = {"Authorization": f"Bearer {token('county', '350203')}"}
    refused = await notify.put(f"/v1/dashboard/stages/{key}/assignee", headers=elsewhere)
    assert refused.status_code == 403, refused.text
    released = await notify.delete(f"/v1/dashboard/stages/{key}/assignee", headers=as_county)
    assert released.json()["assignee"] is None


async def test_r50_a_stage_decided_meanwhile_is_not_assigned_from_a_stale_page(start_app, isolation, token, wait_for):
    notify = await start_app(create_app, NotifySettings, dashboard_interval_seconds=0.2)
    tid = ev.transfer_id()
    key = f"{tid}:receiving_bureau"
    as_county = {"Authorization": f"Bearer {token('county', ev.COUNTY)}"}
    async with ev.Upstream(isolation) as upstream:
        await upstream.send(ev.opened(tid, ev.COUNTY, stage="receiving_bureau", step=4))
        await upstream.send(ev.closed(tid, ev.COUNTY, stage="receiving_bureau"))

    async def closed() -> bool:
        answer = await notify.get(f"/v1/dashboard/stages/{key}", headers=as_county)
        return answer.status_code == 200 and answer.json()["state"] == "closed"

    await wait_for(closed)
    taken = await notify.put(f"/v1/dashboard/stages/{key}/assignee", headers=as_county)
    assert taken.status_code == 409, taken.text
    assert "closed" in taken.json()["detail"]
    assert (await notify.get(f"/v1/dashboard/stages/{key}/assignee", headers=as_county)).json()["assignee"] is None
