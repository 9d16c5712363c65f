"""The SLA dashboard in a real browser (Debian's Chromium via Playwright): counts, drill-down, language, live."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import dashboard_seed
import httpx
import notify_events as ev
import pytest

from xueji_notify.app import create_app
from xueji_notify.settings import NotifySettings

ARTIFACTS = Path(__file__).resolve().parents[2] / ".local" / "screenshots"  # git-ignored

pytestmark = [pytest.mark.integration, pytest.mark.browser]
FAST = {"dashboard_interval_seconds": 0.2, "dashboard_feed_seconds": 0.2}


async def _seed(live, isolation, token, wait_for) -> dashboard_seed.Seeded:
    seeded = dashboard_seed.province()
    async with ev.Upstream(isolation) as upstream:
        await upstream.send(*seeded.messages)
    province = {"Authorization": f"Bearer {token('province', '350000')}"}

    async def settled() -> bool:
        async with httpx.AsyncClient(base_url=live.base_url) as client:
            totals = (await client.get("/v1/dashboard/summary", headers=province)).json()["totals"]
        return (totals["open"], totals["breached"], totals["offline_pending"]) == (
            seeded.open, seeded.breached, seeded.offline_pending)  # fmt: skip

    await wait_for(settled)
    return seeded


def _kpi(page, key: str):
    return page.locator(f'[data-kpi="{key}"] .value')


async def test_r22_r23_dashboard_shows_counts_drills_down_and_speaks_both_languages(
    serve, isolation, token, wait_for, page
):
    live = await serve(create_app, NotifySettings, **FAST)
    seeded = await _seed(live, isolation, token, wait_for)
    await page.goto(f"{live.base_url}/dashboard#token={token('province', '350000')}")

    await page.locator('[data-kpi="k_open"] .value').filter(has_text=str(seeded.open)).wait_for()
    assert await _kpi(page, "k_breached").inner_text() == str(seeded.breached)
    assert await _kpi(page, "k_offline").inner_text() == str(seeded.offline_pending)
    assert "token=" not in page.url  # the token left the address bar
    assert await page.locator("html").get_attribute("lang") == "zh-CN"
    assert "福建省" in await page.locator("#where").inner_text()
    assert await page.locator("#children tbody tr").count() == 2
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "dashboard-province-zh.png"), full_page=True)

    # Drill down: province -> Zhangzhou -> Xiangcheng -> a school -> its most urgent stage.
    await page.get_by_role("link", name="漳州市").click()
    await page.locator("#crumbs [aria-current]").filter(has_text="漳州市").wait_for()
    await page.get_by_role("link", name="芗城区").click()
    await page.locator("#crumbs [aria-current]").filter(has_text="芗城区").wait_for()
    assert await page.locator("#children tbody tr.own").count() == 1  # the bureau's own late stage
    await page.locator('#children tbody tr[data-node="3506020001"] a').click()
    await page.locator("#crumbs [aria-current]").filter(has_text="3506020001").wait_for()
    first = page.locator("#stages tbody tr").first
    await first.wait_for()
    await first.click()
    dialog = page.locator("#detail")
    await dialog.wait_for(state="visible")
    assert await page.locator("#detail-history li").count() >= 1
    assert "24:00" in await page.locator("#detail-facts").inner_text()
    await page.keyboard.press("Escape")

    # English, kept across a reload; the back button climbs the tree again.
    await page.locator("#lang").click()
    assert await page.locator("html").get_attribute("lang") == "en"
    assert await page.locator('[data-kpi="k_open"] .label').inner_text() == "Open stages"
    await page.go_back()
    await page.locator("#crumbs [aria-current]").filter(has_text="芗城区").wait_for()
    await page.screenshot(path=str(ARTIFACTS / "dashboard-county-en.png"), full_page=True)
    await page.reload()
    await page.locator('[data-kpi="k_open"] .label').filter(has_text="Open stages").wait_for()
    await page.locator("#lang").click()
    assert await page.locator('[data-kpi="k_open"] .label').inner_text() == "在办环节"

    # A past day by its date (the API test covers the day's figures): a day never counted says so; cleared, today.
    long_ago = (datetime.now(UTC) - timedelta(days=400)).date().isoformat()
    await page.get_by_label("按日查看").fill(long_ago)
    await page.locator("#day-note").filter(has_text=f"{long_ago} 没有记录").wait_for()
    assert f"day={long_ago}" in page.url
    await page.get_by_label("按日查看").fill("")
    await page.locator("#day-note").wait_for(state="hidden")


async def test_r22_breach_appears_live_without_a_reload(serve, isolation, token, wait_for, page):
    live = await serve(create_app, NotifySettings, **FAST)
    seeded = await _seed(live, isolation, token, wait_for)
    late = seeded.late_stage.payload
    county = late.jurisdiction[:6]
    loads: list[str] = []
    page.on("load", lambda _: loads.append("load"))
    await page.goto(f"{live.base_url}/dashboard#token={token('county', county)}")
    breached = _kpi(page, "k_breached")
    await page.locator("#live[data-state=on]").wait_for()
    before = int(await breached.inner_text())

    # The transfer service's timer fires: a breach on one of this county's open stages.
    async with ev.Upstream(isolation) as upstream:
        await upstream.send(ev.breached(late.transfer_id, late.deadline.due_at, late.jurisdiction, to=county))
    started = __import__("time").monotonic()
    await breached.filter(has_text=str(before + 1)).wait_for(timeout=10_000)
    took = __import__("time").monotonic() - started
    assert took < 10, took
    assert loads == ["load"]  # no reload: the page updated itself
    row = page.locator(f'#stages tbody tr[data-key="{late.transfer_id}:{late.stage.value}"]')
    await row.locator(".badge.breached").wait_for()
    print(f"breach visible on the page {took:.2f} s after it was published")


async def test_exceptions_to_generally_rules_are_shown_to_the_county_on_the_dashboard(
    serve, isolation, token, wait_for, page
):
    """RULES "Exceptions" (R08, R27, R40): the county sees every exception recorded under it, with rule and reason."""
    from datetime import UTC, datetime

    from xueji_contracts.envelope import envelop
    from xueji_contracts.messages.exceptions import RuleExceptionRecorded
    from xueji_contracts.topics import RULE_EXCEPTION

    live = await serve(create_app, NotifySettings, **FAST)
    recorded = RuleExceptionRecorded(
        exception_id="exc-stu-9-4", rule="R40", clause="graduation_semester", authority="county",
        jurisdiction="350602", operator="county-clerk-7", reason="重病住院，毕业学期确需休学",
        evidence=("doc://medical/1",), occurred_at=datetime.now(UTC), subject_kind="student", subject_id="stu-9",
        school_code="3506020001",
    )  # fmt: skip
    async with ev.Upstream(isolation) as upstream:
        message = envelop(recorded, producer="registry", province="35", occurred_at=datetime.now(UTC))
        await upstream.send(message, topic=RULE_EXCEPTION.name)
    county = {"Authorization": f"Bearer {token('county', '350602')}"}

    async def listed() -> bool:
        async with httpx.AsyncClient(base_url=live.base_url) as client:
            return (await client.get("/v1/dashboard/exceptions", headers=county)).json()["total"] == 1

    await wait_for(listed)
    await page.goto(f"{live.base_url}/dashboard#token={token('county', '350602')}")
    panel = page.locator("#exceptions-panel")
    await panel.locator("li").filter(has_text="R40 graduation_semester").wait_for()
    assert "重病住院" in await panel.inner_text()
    assert "R40 1" in await page.locator("#exceptions-summary").inner_text()
