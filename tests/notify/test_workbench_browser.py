"""The operators' workbench in a real browser (Debian's Chromium via Playwright) over the four real services:
a clerk enrolls and uploads a class, a transfer goes through its four approval stages by clicks in four operators'
sessions, a county reviews a suspected duplicate and records an exception. Every page is photographed in Chinese
and English under .local/screenshots/ (git-ignored)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import notify_events as ev
import openpyxl
import pytest
from common import free_port

from xueji_contracts.calendar import semester_of
from xueji_contracts.identity import check_character
from xueji_dedupe.app import create_app as create_dedupe
from xueji_dedupe.settings import DedupeSettings
from xueji_notify.app import create_app as create_notify
from xueji_notify.settings import NotifySettings
from xueji_registry.app import create_app as create_registry
from xueji_registry.settings import RegistrySettings
from xueji_transfer.app import create_app as create_transfer
from xueji_transfer.settings import TransferSettings

pytestmark = [pytest.mark.integration, pytest.mark.browser]
SHOTS = Path(__file__).resolve().parents[2] / ".local" / "screenshots"  # git-ignored
SCHOOL, SENDING = "3506020001", "3501020003"
JUNIOR_SCHOOL = "3506020002"
NEIGHBOUR_SCHOOL, NEIGHBOUR_COUNTY = "3506030001", "350603"


TIMINGS: dict[str, list[float]] = {}


@contextlib.asynccontextmanager
async def timed(action: str) -> Any:
    """How long an action takes from the click to the answer on the page (recorded, not asserted: the figure
    depends on the machine's load), written to .local/screenshots/workbench-timings.json."""
    start = time.monotonic()
    yield
    TIMINGS.setdefault(action, []).append(round(time.monotonic() - start, 3))
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "workbench-timings.json").write_text(json.dumps(TIMINGS, ensure_ascii=False, indent=1), encoding="utf-8")


def id_number(region: str, born: date, seq: str) -> str:
    first17 = f"{region}{born:%Y%m%d}{seq}"
    return first17 + check_character(first17)


class Workbench:
    """The four services on loopback ports; notify serves the pages, the others allow its origin (CORS)."""

    def __init__(self, services: dict[str, Any], token: Any, chromium: Any) -> None:
        self.services, self.token, self.chromium = services, token, chromium
        self.url = f"{services['notify'].base_url}/workbench"
        self.pages: list[Any] = []

    async def session(self, role: str, code: str, lang: str = "zh-CN") -> Any:
        """A new browser context (its own sessionStorage), signed in through the form as a person would."""
        context = await self.chromium.new_context(
            viewport={"width": 1280, "height": 900}, locale=lang, timezone_id="Asia/Shanghai", accept_downloads=True
        )
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        # A refused request (409, 422) is the answer under test, not a page error; anything else is.
        page.on(
            "console",
            lambda m: errors.append(m.text) if m.type == "error" and "Failed to load resource" not in m.text else None,
        )
        page.errors = errors
        self.pages.append(page)
        await page.goto(self.url)
        await page.get_by_label("操作员令牌 (JWT)").fill(self.token(role, code))
        await page.get_by_role("button", name="登录").click()
        await page.locator("#tab-list a").first.wait_for()
        if lang == "en":
            await page.locator("#lang").click()
        return page

    async def api(self, service: str, method: str, path: str, who: tuple[str, str], **kw: Any) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.services[service].base_url, timeout=20) as client:
            headers = {"Authorization": f"Bearer {self.token(*who)}"}
            return await client.request(method, path, headers=headers, **kw)


async def drawn(page: Any) -> None:
    await page.locator("body[data-ready='1']").wait_for(state="attached")


async def shoot(page: Any, name: str) -> None:
    """The page in both languages: zh first (the default), then en, then back to where it was."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    await drawn(page)
    first = await page.locator("html").get_attribute("lang")
    await page.screenshot(path=str(SHOTS / f"workbench-{name}-{first}.png"), full_page=True)
    await page.locator("#lang").click()
    await drawn(page)
    second = await page.locator("html").get_attribute("lang")
    await page.screenshot(path=str(SHOTS / f"workbench-{name}-{second}.png"), full_page=True)
    await page.locator("#lang").click()
    await drawn(page)


DIRECTORY = {
    SCHOOL: "漳州市芗城区第一实验小学",
    SENDING: "福州市鼓楼区第三实验小学",
    NEIGHBOUR_SCHOOL: "漳州市龙文区第一实验小学",
    JUNIOR_SCHOOL: "漳州市芗城区第二中学",
}


@pytest.fixture
async def workbench(serve, token, chromium, tmp_path):
    directory = tmp_path / "schools.csv"
    directory.write_text("学校代码,学校名称\n" + "".join(f"{c},{n}\n" for c, n in DIRECTORY.items()), encoding="utf-8")
    ports = {name: free_port() for name in ("registry", "transfer", "dedupe", "notify")}
    cors = {"cors_origins": (f"http://127.0.0.1:{ports['notify']}",)}
    services = {
        "dedupe": await serve(create_dedupe, DedupeSettings, port=ports["dedupe"], national_enabled=False, **cors),
        "registry": await serve(
            create_registry, RegistrySettings, port=ports["registry"], school_directory_file=directory, **cors
        ),
        "transfer": await serve(create_transfer, TransferSettings, port=ports["transfer"], **cors),
    }
    services["notify"] = await serve(
        create_notify, NotifySettings, port=ports["notify"], dashboard_interval_seconds=0.2,
        dashboard_feed_seconds=0.2, school_directory_file=directory,  # as make run: notify names schools too
        **{f"workbench_{n}_url": s.base_url for n, s in services.items()},
    )  # fmt: skip
    bench = Workbench(services, token, chromium)
    try:
        yield bench
    finally:
        for page in bench.pages:
            errors = page.errors
            await page.context.close()
            assert not errors, f"the page reported errors: {errors}"


async def test_r01_r06_r14_a_clerk_enrolls_one_student_and_uploads_a_class(workbench, tmp_path):
    page = await workbench.session("school", SCHOOL)
    school_token = await page.evaluate("sessionStorage.getItem('xueji.token')")
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    assert DIRECTORY[SCHOOL] in await page.locator("#who").inner_text()  # names, not only codes
    await page.get_by_role("link", name="新生建籍").click()
    child = id_number("350602", date(2019, 3, 15), "123")

    # R06 as typed: a wrong check character is named before anything is sent.
    id_field = page.get_by_label("身份证件号")
    await id_field.fill(child[:-1] + ("0" if child[-1] != "0" else "1"))
    hint = page.locator(f"#{await id_field.get_attribute('id')}-hint")
    assert "校验码不符" in await hint.inner_text()
    assert await id_field.get_attribute("aria-invalid") == "true"
    # A number whose check character is right but whose region is no division: the server's 422 names the field.
    nowhere = id_number("359999", date(2019, 3, 15), "123")
    await id_field.fill(nowhere)
    assert "格式正确" in await hint.inner_text()
    await page.get_by_label("姓名", exact=True).fill("林小明")
    await page.get_by_label("年级").select_option("1")
    await shoot(page, "enroll")
    await page.get_by_role("button", name="提交建籍").click()
    await page.locator("[data-verdict=refused]").wait_for()
    # The service's English reason, said in Chinese (what to fix), the field marked.
    assert "地区码 359999 不是行政区划代码" in await hint.inner_text()
    assert await id_field.get_attribute("aria-invalid") == "true"
    # A 503 (store away) says when to try again, from its Retry-After.
    unavailable = "{status: 503, body: {detail: 'store unavailable'}, headers: new Headers({'Retry-After': '5'})}"
    said = await page.evaluate(f"() => window.XUEJI_WB.failure({unavailable})")
    assert said == "系统暂时不可用，请 5 秒后重试（已填写的内容仍保留）。"
    # A 409 without a rule: the same action (Idempotency-Key) is still running.
    in_flight = "{status: 409, body: {detail: 'in progress'}, headers: new Headers({'Retry-After': '2'})}"
    said = await page.evaluate(f"() => window.XUEJI_WB.failure({in_flight})")
    assert said.startswith("同一操作仍在处理中：请 2 秒后刷新页面查看结果")

    # Pasted from a web page with invisible characters, or typed full-width: the same number, on the page as in the
    # registry (contracts/tests/test_identity.py).
    pasted = "\u00a0".join([child[:6], child[6:14], child[14:]]) + "\u200b"
    full_width = child.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    assert await page.evaluate("ns => ns.map(n => window.XUEJI_ID.problem(n))", [pasted, full_width]) == [None, None]

    # A valid number: the birth date and gender follow it; the answer says plainly that the student is enrolled.
    await id_field.fill(child)
    assert await page.get_by_label("出生日期").input_value() == "2019-03-15"
    async with timed("enroll one student"):
        await page.get_by_role("button", name="提交建籍").click()
        enrolled = page.locator("[data-verdict=ok]")
        await enrolled.wait_for()
    assert "已建立学籍" in await enrolled.inner_text()

    # The same ID number again (R01): refused, naming the existing record.
    posted = "/v1/students"
    async with page.expect_response(lambda r: r.url.endswith(posted) and r.request.method == "POST") as answered:
        await page.get_by_role("button", name="提交建籍").click()
    refused_request = (await (await answered.value).json())["detail"]["student_id"]
    refused = page.locator("[data-verdict=refused]")
    await refused.filter(has_text="R01").wait_for()
    assert "已有学籍" in await refused.inner_text()
    await shoot(page, "enroll-answer")

    # A gender the ID number contradicts (its 17th digit, 1, is odd: a boy): enrolled all the same, the answer says which
    # field to check and why, in Chinese (R14: the clerk corrects the one that is wrong).
    await id_field.fill(id_number("350602", date(2018, 7, 9), "131"))
    await page.get_by_label("出生日期").fill("2018-07-09")
    await page.get_by_label("性别").select_option("female")
    await page.get_by_label("姓名", exact=True).fill("郑小华")
    # R01: the submission after a refusal names the refused request it corrects (dedupe may not have read the refusal).
    async with page.expect_request(lambda r: r.url.endswith(posted) and r.method == "POST") as sent:
        await page.get_by_role("button", name="提交建籍").click()
    assert (await sent.value).post_data_json["corrects"] == refused_request
    warning = page.locator("#warnings")
    await warning.wait_for()
    assert "性别与身份证件号不一致（第17位为 1，应为男）" in await warning.inner_text()

    # The transfer form finds a student of this school by name (masked number only) instead of a typed id; another
    # school's students are not searched (R50).
    await page.get_by_role("link", name="转学申请").click()
    await page.get_by_label("按姓名查找学生").fill("小明")
    await page.get_by_role("button", name="查找", exact=True).click()
    hit = page.locator("#student-hits button.hit").filter(has_text="林小明")
    await hit.wait_for()
    assert child not in await hit.inner_text() and "*" in await hit.inner_text()
    student_id = await hit.get_attribute("data-student")
    await hit.click()
    assert await page.get_by_label("学生标识", exact=True).input_value() == student_id
    assert await page.get_by_label("转出学校代码").input_value() == SCHOOL
    await page.get_by_label("转出学校代码").fill(SENDING)
    await page.get_by_role("button", name="查找", exact=True).click()
    await page.locator("#student-hits").filter(has_text="只能查找本辖区学校的学生").wait_for()

    # A class spreadsheet: one mistyped ID number is reported by row and column; only that row is sent again.
    rows = ["姓名,性别,出生日期,身份证件号,年级"]
    for n in range(3):
        number = id_number("350602", date(2019, 5, 1 + n), f"21{n}")
        if n == 1:
            number = number[:-1] + ("0" if number[-1] != "0" else "1")
        rows.append(f"学生{n},{'男' if n % 2 == 0 else '女'},2019/05/0{1 + n},{number},一年级")
    # Row 5: the child enrolled above, again, without an ID number: a suspected duplicate for the county (R14).
    rows.append("林小明,男,2019/03/15,,一年级")
    good_second = id_number("350602", date(2019, 5, 2), "211")
    sheet = tmp_path / "class.csv"
    sheet.write_text("\n".join(rows) + "\n", encoding="utf-8")
    await page.get_by_role("link", name="批量导入").click()
    await page.get_by_label("名单文件").set_input_files(str(sheet))
    async with timed("upload a class of 4 rows"):
        await page.get_by_role("button", name="上传").click()
        await page.locator("#row-errors tbody tr").first.wait_for()
    assert await page.locator("#row-errors tbody tr").count() == 1
    error_row = await page.locator("#row-errors tbody tr").inner_text()
    assert "3" in error_row and "身份证件号" in error_row and "校验码不符" in error_row, error_row
    # The good rows' duplicate-check answers arrive on the page without a reload (R01, R14): two enrolled, the
    # repeated child held for the county's review.
    answered = page.locator("#verdict-counts[data-awaiting='0']")
    await answered.wait_for(timeout=20_000)
    assert "全部 3 行已有查重结果" in await answered.inner_text()
    assert await page.locator("#verdict-rows tbody tr[data-kind=held]").inner_text() != ""
    assert "5" in await page.locator("#verdict-rows tbody tr[data-kind=held] td.num").inner_text()
    await shoot(page, "upload")
    await page.get_by_label("第 3 行 身份证件号").fill(good_second)
    await page.get_by_role("button", name="重新上传 1 行").click()
    await page.locator("[data-verdict=all_good]").wait_for()
    assert "1 行已提交建籍" in await page.locator("#upload-result").inner_text()

    # A child of that class uploaded again with its name changed: the first request stands, and the page says so,
    # naming the row and the column (the name is corrected on the record once enrolled, R10).
    again = tmp_path / "again.csv"
    again.write_text("\n".join([rows[0], ",".join(["学生零", *rows[1].split(",")[1:]])]) + "\n", encoding="utf-8")
    await page.get_by_label("名单文件").set_input_files(str(again))
    await page.get_by_role("button", name="上传").click()
    kept = page.locator("#not-applied li[data-row='2'][data-field='name']")
    await kept.wait_for()
    assert "未采用" in await page.locator("#not-applied").inner_text() and "姓名" in await kept.inner_text()

    # An upload whose answer is lost on its way back (the connection drops after the registry requested its row): the
    # page sends it again with the same Idempotency-Key, and the row is told as requested by this upload, not as
    # requested before. (The loss is made in the page: Playwright's route.fetch drops an XHR's multipart body.)
    await page.evaluate("""() => {
      const send = XMLHttpRequest.prototype.send, header = XMLHttpRequest.prototype.setRequestHeader;
      window.bulkKeys = [];
      XMLHttpRequest.prototype.setRequestHeader = function (name, value) {
        if (name === "Idempotency-Key") window.bulkKeys.push(value);
        return header.call(this, name, value);
      };
      XMLHttpRequest.prototype.send = function (body) {
        if (window.bulkKeys.length === 1) { const dropped = this.onerror; this.onload = () => dropped(); }
        return send.call(this, body);
      };
    }""")
    lost = tmp_path / "lost.csv"
    lost.write_text(f"{rows[0]}\n新同学,女,2019/07/01,{id_number('350602', date(2019, 7, 1), '411')},一年级\n",
                    encoding="utf-8")  # fmt: skip
    await page.get_by_label("名单文件").set_input_files(str(lost))
    await page.evaluate("document.getElementById('upload-result').replaceChildren()")  # the answer before this one
    await page.get_by_role("button", name="上传").click()
    await page.locator("#upload-result [data-verdict=all_good]").filter(has_text="1 行已提交建籍").wait_for()
    keys = await page.evaluate("window.bulkKeys")
    assert len(keys) == 2 and keys[0] == keys[1] and keys[0].startswith("wb-"), keys

    # The same from an XLSX (dates as Excel stores them): the bad row is read back into the grid and sent alone.
    book = openpyxl.Workbook()
    book.active.append(["姓名", "性别", "出生日期", "身份证件号", "年级"])
    for n in range(2):
        number = id_number("350602", date(2019, 6, 1 + n), f"31{n}")
        book.active.append([f"新生{n}", "男", date(2019, 6, 1 + n), number if n == 0 else number[:-1] + "Y", "一年级"])
    book.save(tmp_path / "class.xlsx")
    await page.get_by_label("名单文件").set_input_files(str(tmp_path / "class.xlsx"))
    await page.get_by_role("button", name="上传").click()
    await page.locator("#fix-rows tbody tr[data-row='3']").wait_for()
    assert await page.get_by_label("第 3 行 出生日期").input_value() == "2019-06-02"
    await page.get_by_label("第 3 行 身份证件号").fill(id_number("350602", date(2019, 6, 2), "311"))
    await page.get_by_role("button", name="重新上传 1 行").click()
    await page.locator("[data-verdict=all_good]").filter(has_text="1 行已提交建籍").wait_for()

    # A row refused at upload (R02: admitted in the future) and one the registry refused after it (R01: the child
    # enrolled above): each says its own rule and reason, in the page's language, not "already has a record" for all.
    await _refused_rows_say_their_rule(page, tmp_path, child)

    # The annual rosters (R54): this year's new students counted, submitted to the county bureau.
    await page.get_by_role("link", name="名册报送").click()
    await page.locator("[data-count=new_students]").wait_for()
    assert int(await page.locator("[data-count=new_students]").inner_text()) >= 1
    await assert_every_control_labelled(page)
    await shoot(page, "rosters-school")
    await page.get_by_role("button", name="报送学年名册").click()
    await page.locator("[data-verdict=submitted]").wait_for()

    # The school's inbox: the tasks the enrollment created (R02 status file), in working days.
    await page.get_by_role("link", name="待办", exact=True).click()
    task = page.locator("#inbox-table tbody tr").filter(has_text="R02").first
    await task.wait_for(timeout=20_000)
    assert (await task.locator("td.num").inner_text()).strip() not in ("", "—")
    await shoot(page, "inbox-school")

    # The session: the token only in this tab's storage, never in an address or a cookie; sign-out forgets it.
    signature = school_token.split(".")[2]
    assert urls and not any(signature in u for u in urls) and signature not in page.url
    assert await page.context.cookies() == []
    assert await page.evaluate("sessionStorage.getItem('xueji.token')") == school_token
    assert "登录有效至" in await page.locator("#session").inner_text()
    await page.get_by_role("button", name="退出").click()
    await page.get_by_label("操作员令牌 (JWT)").wait_for()
    assert await page.evaluate("sessionStorage.getItem('xueji.token')") is None


async def _refused_rows_say_their_rule(page: Any, tmp_path: Path, child: str) -> None:
    """R02: a row admitted after today (China time) is refused at upload, naming the row, the column and the reason.
    R01: a row refused once dedupe answered says its refusal's rule and reason in the verdict table, in Chinese and
    in English, as does a refusal for another rule (R02, as requests refused at creation before the upload checked the
    date keep answering); uploaded again as it was, a refused row is noted as still refused."""
    shanghai_today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()
    later = (shanghai_today + timedelta(days=60)).isoformat()
    rows = ["姓名,性别,出生日期,身份证件号,年级,入学日期",
            f"未来生,男,2019-08-01,{id_number('350602', date(2019, 8, 1), '411')},一年级,{later}",
            f"林小明,男,2019-03-15,{child},一年级,"]  # fmt: skip
    sheet = tmp_path / "refused.csv"
    sheet.write_text("\n".join(rows) + "\n", encoding="utf-8")
    await page.get_by_role("link", name="批量导入").click()
    await page.get_by_label("名单文件").set_input_files(str(sheet))
    await page.get_by_role("button", name="上传").click()
    error_row = page.locator("#row-errors tbody tr[data-row='2']")
    await error_row.wait_for()
    said = await error_row.inner_text()
    assert "入学日期" in said and "入学日期晚于今天" in said, said
    await page.locator("#verdict-counts[data-awaiting='0']").wait_for(timeout=20_000)
    again = page.locator("#verdict-rows tr[data-row='3']")
    assert await again.get_attribute("data-kind") == "refused", await again.inner_text()
    said = await again.inner_text()
    assert "R01" in said and "已有学籍" in said, said
    stored_r02 = "{kind: 'refused', refusal: {rule: 'R02', reason: 'the admission date is in the future'}}"
    said = await page.evaluate(f"() => window.XUEJI_WB.verdictText({stored_r02})")
    assert "R02" in said and "入学日期晚于今天" in said and "已有学籍" not in said, said
    await page.locator("#lang").click()
    await drawn(page)
    said = await page.locator("#verdict-rows tr[data-row='3']").inner_text()
    assert "R01" in said and "already has a status record" in said, said
    said = await page.evaluate(f"() => window.XUEJI_WB.verdictText({stored_r02})")
    assert "R02" in said and "admission date is in the future" in said and "already has" not in said, said
    await page.locator("#lang").click()
    await drawn(page)

    # The same sheet again: the refused row is still refused (nothing asked again), noted by row with the reason.
    await page.get_by_label("名单文件").set_input_files(str(sheet))
    await page.get_by_role("button", name="上传", exact=True).click()
    note = page.locator("#still-refused")
    await note.wait_for()
    assert "1 行之前已不予建籍，本次内容未改：仍不予建籍" in await note.inner_text()
    said = await note.locator("li[data-row='3']").inner_text()
    assert "R01" in said and "该学生已有学籍" in said and "refused" not in said, said  # in the page's language
    # Every row counted once: the still-refused row too (it was left out: "共 2 行：0 行已提交建籍，1 行有误").
    headline = await page.locator("#upload-result h3").first.inner_text()
    assert "共 2 行：0 行已提交建籍，1 行仍不予建籍，1 行有误" in headline, headline
    # The refused row alone: no bad row, but not all good either (it was marked all_good).
    alone = tmp_path / "refused-alone.csv"
    alone.write_text("\n".join([rows[0], rows[2]]) + "\n", encoding="utf-8")
    await page.get_by_label("名单文件").set_input_files(str(alone))
    await page.get_by_role("button", name="上传", exact=True).click()
    await page.locator("#upload-result [data-verdict=some_refused]").wait_for()
    assert await page.locator("#upload-result [data-verdict=all_good]").count() == 0
    assert "共 1 行：0 行已提交建籍，1 行仍不予建籍" in await page.locator("#upload-result h3").first.inner_text()


def _term_around(today: date) -> dict[str, Any]:
    """The whole semester `today` falls in: R27 judges the semester by the day, so the form must state that one."""
    school_year, half = semester_of(today)
    if half == 1:
        return {"start": f"{school_year}-08-01", "end": f"{school_year + 1}-01-31", "semester": 1}
    return {"start": f"{school_year + 1}-02-01", "end": f"{school_year + 1}-07-31", "semester": 2}


async def _clock_outside_the_blackout(workbench: Workbench) -> date:
    """R25 closes Jul 15 - Aug 14 (China dates) to new cases: on those days the transfer service's clock is set to
    Aug 20. Asked of the service's own rules: the UTC date is a day behind from 16:00 UTC (it missed 14 July's)."""
    now = datetime.now(UTC)
    service = workbench.services["transfer"].app.state.transfer
    if service.calendars.rules.windows.in_blackout(now):
        fixed = now.replace(month=8, day=20)
        service.clock = lambda: fixed
        now = fixed
    return (now + timedelta(hours=8)).date()


async def _decide(page: Any, workbench: Workbench, stage_zh: str) -> None:
    await page.get_by_role("link", name="待办", exact=True).click()
    item = page.locator("#inbox-table tbody tr").filter(has_text=stage_zh).first
    await item.wait_for(timeout=20_000)
    await item.get_by_role("link").click()
    await page.locator("#decide-form").wait_for()
    await assert_every_control_labelled(page)
    # "Assign to me" persists: after a reload the case still names this operator.
    await page.get_by_role("button", name="由我办理").click()
    await (
        page.locator("[data-fact=assignee]")
        .filter(has_text="（我）")
        .or_(page.locator("[data-fact=assignee]").filter(has_text="(我)"))
        .wait_for()
    )
    await page.reload()
    await page.locator("[data-fact=assignee]").filter(has_text="我").wait_for()
    await page.get_by_role("radio", name="同意", exact=True).check()
    async with timed("decide a stage"):
        await page.get_by_role("button", name="提交").click()
        await page.locator("#status").filter(has_text="已同意").wait_for()


async def _enrolled_at_the_sending_school(
    workbench: Workbench, grade: int, name: str = "陈思远", seq: str = "315"
) -> str:
    """A pupil the registry enrolled (transfer checks the application against the registry's record, R28)."""
    today = (datetime.now(UTC) + timedelta(hours=8)).date()
    school_year = today.year if today.month >= 8 else today.year - 1
    born = date(school_year - 5 - grade, 6, 1)
    body = {"school_code": SENDING, "name": name, "id_number": id_number("350102", born, seq), "gender": "male",
            "birth_date": born.isoformat(), "grade": grade, "school_year": school_year}  # fmt: skip
    answer = await workbench.api("registry", "POST", "/v1/students", ("school", SENDING), json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["student_id"])


async def test_r21_r50_a_transfer_goes_through_four_stages_in_four_operators_sessions(workbench, wait_for):
    today = await _clock_outside_the_blackout(workbench)
    student = await _enrolled_at_the_sending_school(workbench, 4)
    records = workbench.services["transfer"].app.state.records
    await wait_for(lambda: records.find(student))  # the status feed reached transfer
    school = await workbench.session("school", SCHOOL)
    await school.get_by_role("link", name="转学申请").click()
    await school.get_by_label("学生标识", exact=True).fill(student)
    await school.get_by_label("转出学校代码").fill(SENDING)
    await school.get_by_label("年级", exact=True).fill("4")
    term = _term_around(today)
    await school.get_by_label("本学期开始").fill(term["start"])
    await school.get_by_label("本学期结束").fill(term["end"])
    await school.get_by_label("学期", exact=True).select_option(str(term["semester"]))  # the service's day decides
    await school.get_by_label("户籍已随转学原因迁移").select_option("true")  # so no separate proof of reason (R30)
    for material in ("转学申请登记表", "户口簿", "学籍基本信息表", "转学证明原件照片"):
        await school.get_by_role("checkbox", name=material, exact=False).check()
    await shoot(school, "apply")
    async with timed("apply for a transfer"):
        await school.get_by_role("button", name="登记申请").click()
        await school.locator("#case-facts").wait_for()
    case_number = await school.locator("[data-fact=case_number]").inner_text()
    assert case_number.startswith("ZX-350602-"), case_number
    transfer_id = await school.locator("[data-fact=internal_id]").inner_text()

    # Step 2 and step 3 are the receiving school's.
    await school.get_by_role("button", name="提交审查").click()
    await school.locator("#decide-form").wait_for()
    await school.get_by_role("button", name="提交").click()
    await school.locator("[data-fact=open_stage]").filter(has_text="转入地教育局").wait_for()
    await shoot(school, "case")

    # Steps 4-6: each party in its own session, from its inbox.
    for role, code, stage in (
        ("county", "350602", "转入地教育局"),
        ("school", SENDING, "转出学校"),
        ("county", "350102", "转出地教育局"),
    ):
        page = await workbench.session(role, code)
        if role == "county" and code == "350602":
            # The receiving bureau comes from the SLA dashboard (same tab, same session): the stage's dialog leads
            # to the case in the workbench.
            await page.goto(f"{workbench.services['notify'].base_url}/dashboard")
            row = page.locator(f'#stages tbody tr[data-key="{transfer_id}:receiving_bureau"]')
            await row.wait_for(timeout=20_000)
            await row.click()
            await page.locator("#detail-act").click()
            await page.locator("#case-facts").wait_for()
            assert await page.locator("[data-fact=internal_id]").inner_text() == transfer_id
        await _decide(page, workbench, stage)
        if role == "county" and code == "350602":
            await shoot(page, "decide-county")
        await page.context.close()
        workbench.pages.remove(page)

    # Steps 7-8: the receiving school tells the student to report, and records the arrival.
    await school.reload()
    await school.get_by_role("button", name="通知学生报到（第7步）").click()
    await school.get_by_role("button", name="学生已报到，调取电子档案（第8步）").click()
    await school.locator("[data-fact=phase]").filter(has_text="已完成").wait_for()
    history = await school.locator("#case-history").inner_text()
    assert history.count("同意") >= 4, history

    # The offline path (R23) on a second case: a declared failure at the guardian's request, the receiving bureau's
    # paper consent with its cause, the school's offline acceptance, each by its own operator.
    other = await _enrolled_at_the_sending_school(workbench, 4, "陈思齐", "335")
    await wait_for(lambda: records.find(other))
    materials = [{"kind": k, "uri": f"school:{SCHOOL}/{k}", "sha256": hashlib.sha256(k.encode()).hexdigest()}
                 for k in ("registration_form", "status_basic_info", "household_register", "certificate_image")]  # fmt: skip
    application = {"student_id": other, "status": "enrolled", "sending": {"code": SENDING}, "receiving": {"code": SCHOOL},
                   "grade": 4, "target_grade": 4, "reason": "household_move", "household_register_changed": True,
                   "term": _term_around(today), "materials": materials}  # fmt: skip
    applied = await workbench.api(
        "transfer", "POST", "/v1/transfers", ("school", SCHOOL), json={"application": application}
    )
    assert applied.status_code == 201, applied.text
    await school.goto(f"{workbench.url}#/case/{applied.json()['case_number']}")
    await school.get_by_text("线下办理（R23）").click()
    await school.get_by_label("故障情况").fill("全国学籍系统无法登录")
    await school.get_by_label("监护人申请线下办理").check()
    await school.get_by_role("button", name="登记系统或传输故障").click()
    await school.locator("#status").filter(has_text="已开启线下通道").wait_for()
    bureau = await workbench.session("county", "350602")
    await bureau.goto(f"{workbench.url}#/case/{applied.json()['transfer_id']}")
    await bureau.get_by_label("同意原因").select_option("system_failure")
    await bureau.get_by_role("button", name="签署线下接收同意").click()
    await bureau.locator("#status").filter(has_text="已登记线下同意").wait_for()
    await school.reload()
    await school.get_by_role("button", name="线下接收学生").click()
    await school.locator("#status").filter(has_text="已线下接收").wait_for()


UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter((c) => c.type !== 'hidden' && !c.closest('[hidden]'))
  .filter((c) => !(c.labels && c.labels.length) && !c.getAttribute('aria-label') && !c.getAttribute('aria-labelledby')
                 && !(c.tagName === 'BUTTON' && c.textContent.trim()))
  .map((c) => c.outerHTML.slice(0, 80))"""


async def assert_every_control_labelled(page: Any) -> None:
    assert await page.evaluate(UNLABELLED) == []


async def test_r14_r27_a_county_reviews_a_suspected_duplicate_and_records_an_exception(
    workbench, wait_for, tmp_path, isolation
):
    # Meanwhile a stage at one of the county's schools went overdue and was escalated to the bureau (R22).
    async with ev.Upstream(isolation) as upstream:
        await upstream.send(ev.breached("tr_overdue_1", datetime.now(UTC) - timedelta(days=1), SCHOOL, to="350602"))
    # A child enrolled in one county; the neighbouring county's clerk enrolls a child alike but without an ID number.
    child = {"school_code": SCHOOL, "name": "林小明", "id_number": id_number("350602", date(2014, 2, 14), "001"),
             "gender": "male", "birth_date": "2014-02-14", "grade": 1, "school_year": 2026}  # fmt: skip
    first = await workbench.api("registry", "POST", "/v1/students", ("school", SCHOOL), json=child)
    assert first.status_code == 201, first.text

    async def indexed() -> bool:
        answer = await workbench.api("dedupe", "GET", "/v1/index", ("province", "350000"))
        return answer.json()["records"] >= 1

    await wait_for(indexed)
    clerk = await workbench.session("school", NEIGHBOUR_SCHOOL)
    await clerk.get_by_label("姓名", exact=True).fill("林晓明")
    await clerk.get_by_label("性别").select_option("male")
    await clerk.get_by_label("出生日期").fill("2014-02-14")
    await clerk.get_by_label("学年（入学年份）").fill("2026")
    await clerk.get_by_role("button", name="提交建籍").click()
    held = clerk.locator("[data-verdict=held]")
    await held.wait_for()
    assert "县级教育局复核" in await held.inner_text()

    # The county bureau, keyboard only: the review queue, both records side by side, one decision with a reason.
    county = await workbench.session("county", NEIGHBOUR_COUNTY)
    await county.get_by_role("link", name="疑似重复").focus()
    await county.keyboard.press("Enter")
    row = county.locator("#reviews-table tbody tr").first
    await row.wait_for(timeout=20_000)
    await assert_every_control_labelled(county)
    await shoot(county, "reviews")
    await row.get_by_role("link").focus()
    await county.keyboard.press("Enter")
    await county.locator("#review-records").wait_for()
    assert await county.locator("#review-records section").count() == 2
    assert await county.locator("#review-evidence li").count() >= 1
    await assert_every_control_labelled(county)
    await shoot(county, "review")
    await county.get_by_role("radio", name="不同的人：准予建籍").focus()
    await county.keyboard.press("Space")
    await county.keyboard.press("Tab")
    await county.keyboard.type("核对户口簿：不是同一人")
    await county.keyboard.press("Tab")
    await county.keyboard.press("Enter")
    await county.locator("#status").filter(has_text="已作出复核结论").wait_for()
    assert "不同的人" in await county.locator(".answer").inner_text()

    # An exception to R27 for a first-grade pupil in the first semester, by the receiving county bureau.
    bureau = await workbench.session("county", "350602")
    # The unread badge names the escalations; reading one in the inbox takes it off the count.
    badge = bureau.locator("#alerts-count")
    await badge.wait_for(timeout=20_000)
    before = int(await badge.inner_text())
    assert before >= 1
    await bureau.locator("#alerts").click()
    # The escalation names the late school by its name; acknowledging it is kept for the county and its operator.
    escalation = bureau.locator("#inbox-table tbody tr[data-kind=stage_escalated]").first
    # Named once: notify's stored title already reads "name（code）" and the page does not name it again (issue 18).
    assert (await escalation.inner_text()).count(DIRECTORY[SCHOOL]) == 1
    async with timed("acknowledge an escalation"):
        await escalation.get_by_role("button", name="确认收到并督办", exact=False).click()
        await escalation.locator(".ack").filter(has_text="已确认").wait_for()
    await (
        bureau.locator("#alerts-count")
        .filter(has_text=str(before - 1))
        .or_(bureau.locator("#alerts[hidden]"))
        .wait_for(state="attached")
    )
    await bureau.reload()
    await (
        bureau.locator("#inbox-table tbody tr[data-kind=stage_escalated] .ack")
        .filter(has_text="已确认")
        .first.wait_for()
    )
    await bureau.get_by_role("link", name="例外登记").click()
    await bureau.get_by_label("条款").select_option("first_grade_first_semester")
    await bureau.get_by_label("学生标识", exact=True).fill(first.json()["student_id"])
    await bureau.get_by_label("转入学校").fill(SCHOOL)
    await bureau.get_by_label("书面理由").fill("监护人工作调动，经局务会研究同意")
    await assert_every_control_labelled(bureau)
    await shoot(bureau, "exception")
    await bureau.get_by_role("button", name="登记例外").click()
    recorded = bureau.locator("[data-verdict=recorded]")
    await recorded.wait_for()
    assert "exc_" in await recorded.inner_text()
    await bureau.locator("#exceptions-table tbody tr").filter(has_text="R27").wait_for(timeout=20_000)

    # Exports are formula-safe: a cell starting with = + - @ tab or CR is neutralised, in CSV and in XLSX.
    risky = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tx", "\rx", "平常的理由"]
    csv_text = await bureau.evaluate("(row) => window.XUEJI_WB.exportFormats.csv([row])", risky)
    assert csv_text.startswith('\ufeff"\'=HYPERLINK(""http://x"")",\'+1,\'-2,\'@SUM(A1),\'\tx,"\'\rx",平常的理由'), (
        csv_text
    )
    async with bureau.expect_download() as listed:
        await bureau.locator("#view [data-export=xlsx]").click()
    saved = tmp_path / (await listed.value).suggested_filename
    await (await listed.value).save_as(saved)
    sheet = openpyxl.load_workbook(saved).active
    assert [c.value for c in sheet[1]][:2] == ["规则", "条款"] and sheet["A2"].value == "R27"

    # The semester audit lists it; the bureau downloads the spreadsheet.
    await bureau.get_by_role("link", name="学期审计").click()
    async with bureau.expect_download() as download:
        await bureau.get_by_role("button", name="下载审计表（Excel）").click()
    assert (await download.value).suggested_filename.endswith(".xlsx")
    await shoot(bureau, "audit")


async def _graduation_class(workbench: Workbench) -> list[str]:
    """Two pupils in the junior school's graduation grade (grade 9), enrolled as the registry's API takes them."""
    today = (datetime.now(UTC) + timedelta(hours=8)).date()
    school_year = today.year if today.month >= 8 else today.year - 1
    ids = []
    for n, name in enumerate(("郑一帆", "郑二远")):
        born = date(school_year - 15, 3, 1 + n)
        body = {"school_code": JUNIOR_SCHOOL, "name": name, "id_number": id_number("350602", born, f"41{n}"),
                "gender": "female", "birth_date": born.isoformat(), "grade": 9, "school_year": school_year}  # fmt: skip
        answer = await workbench.api("registry", "POST", "/v1/students", ("school", JUNIOR_SCHOOL), json=body)
        assert answer.status_code == 201, answer.text
        ids.append(str(answer.json()["student_id"]))
    return ids


async def _open_roster(page: Any, segment: str) -> None:
    await page.get_by_label("学段").select_option(segment)
    await page.get_by_role("button", name="打开名册").click()
    await drawn(page)


async def test_r46_r33_a_graduation_roster_submitted_returned_and_approved_then_a_mistaken_progression_rolled_back(
    workbench, wait_for
):
    """R46 by clicks: the school opens its roster (a segment without graduates is a 422 on the field, in Chinese),
    a stale page's second submission is a 409 that says what to do; the county returns it with a reason, the school
    submits again leaving one pupil off (completion certificate), the county approves and the one on it graduates. R33: the county status office rolls back a
    graduate's mistaken progression and is named as the operator."""
    today = await _clock_outside_the_blackout(workbench)
    graduates = await _graduation_class(workbench)
    school = await workbench.session("school", JUNIOR_SCHOOL)
    await school.get_by_role("link", name="名册报送").click()
    await drawn(school)

    # 422 (R46, field segment): no senior student here; the field is marked and the reason says what to do in Chinese.
    await _open_roster(school, "senior")
    segment = school.get_by_label("学段")
    await school.locator("#status").filter(has_text="信息有误").wait_for()
    assert await segment.get_attribute("aria-invalid") == "true"
    hint = await school.locator(f"#{await segment.get_attribute('id')}-hint").inner_text()
    assert "没有毕业年级在籍学生" in hint and "R46" in hint, hint
    assert "student" not in hint  # the service's English stays out of a Chinese page

    await _open_roster(school, "junior")
    await school.locator("#roster-status[data-status=draft]").wait_for()
    assert await segment.get_attribute("aria-invalid") is None
    assert await school.locator("#roster-table tbody tr").count() == 2
    await assert_every_control_labelled(school)
    await shoot(school, "roster-school")

    # 409: another clerk submitted meanwhile; this page's submission is refused and says what to do.
    year = await school.get_by_label("毕业年份").input_value()
    roster = f"/v1/rosters/graduation/{JUNIOR_SCHOOL}/{year}/junior"
    first = await workbench.api("registry", "POST", f"{roster}/submission", ("school", JUNIOR_SCHOOL), json={})
    assert first.status_code == 201, first.text
    await school.get_by_role("button", name="报送毕业生名册").click()
    conflict = school.locator("#status.error")
    await conflict.filter(has_text="已报送的名册须等待县级教育局审核").wait_for()
    assert "R46" in await conflict.inner_text() and "awaits" not in await conflict.inner_text()

    # The county bureau returns it with a reason (none given: the field says so), the school submits again.
    # The county bureau is told in its inbox (R46 review deadline) and goes from there to the roster.
    county = await workbench.session("county", "350602")
    await county.get_by_role("link", name="待办", exact=True).click()
    task = county.locator("#inbox-table tbody tr").filter(has_text="审核学校报送的毕业生名册").first
    for _ in range(40):
        if await task.count():
            break
        await county.reload()
        await drawn(county)
    # The bureau's list is what the bureau does: its schools' own R02 deadlines (not overdue) are counted, not listed,
    # until asked for; each stage, deadline or review is one line however many notices it had.
    rows = county.locator("#inbox-table tbody tr")
    assert await rows.filter(has_text="R02").count() == 0
    assert await rows.filter(has_text="学籍已建立").count() == 0  # the school's own records, told to the school
    await county.locator("#school-tasks").check()
    await drawn(county)
    await rows.filter(has_text="R02").first.wait_for()
    await shoot(county, "inbox-county-with-school-tasks")
    # A deadline's day is its last day, in the title and in the due column alike (kept as 00:00 of the day after).
    dated = 0
    for row in await rows.all():
        title, _, due = (await row.locator("td").all_inner_texts())[:3]
        if found := re.search(r"(?:，|, due )(\d{4}-\d{2}-\d{2})）?\)?$", title.strip()):
            assert due.strip() == found.group(1), (title, due)
            dated += 1
    assert dated >= 2
    await county.locator("#school-tasks").uncheck()
    await drawn(county)
    assert await rows.filter(has_text="R02").count() == 0
    task = county.locator("#inbox-table tbody tr").filter(has_text="审核学校报送的毕业生名册").first
    await task.get_by_role("link").click()
    assert await county.get_by_label("学校", exact=True).input_value() == JUNIOR_SCHOOL
    await county.locator("#roster-status[data-status=submitted]").wait_for()
    assert (
        "t-school 漳州市芗城区第二中学（3506020002）" in await county.locator("#roster").inner_text()
    )  # who submitted
    await assert_every_control_labelled(county)
    await shoot(county, "roster-county")
    await county.get_by_role("button", name="退回学校").click()
    assert await county.get_by_label("说明").get_attribute("aria-invalid") == "true"
    # Keyboard only: type the reason, Tab past 审核通过 to 退回学校, Enter.
    await county.get_by_label("说明").focus()
    await county.keyboard.type("附件8未盖章")
    await county.keyboard.press("Tab")
    await county.keyboard.press("Tab")
    await county.keyboard.press("Enter")
    await county.locator("#roster-status[data-status=returned]").wait_for()

    await _open_roster(school, "junior")
    assert "附件8未盖章" in await school.locator("#roster-review").inner_text()
    assert "t-county" in await school.locator("#roster-review").inner_text()
    # R46: one pupil finished the courses without meeting the requirements: left off (completion certificate).
    await school.get_by_role("checkbox", name="郑二远 不列入毕业名册（结业）").check()
    async with timed("submit a graduation roster"):
        await school.get_by_role("button", name="报送毕业生名册").click()
        await school.locator("#roster-status[data-status=submitted]").wait_for()
    assert await school.locator("#roster-table tbody tr").count() == 1
    assert "郑二远 · 修完课程但未达到毕业要求" in await school.locator("#roster").inner_text()
    await _open_roster(county, "junior")
    async with timed("approve a graduation roster (its graduate graduates)"):
        await county.get_by_role("button", name="审核通过").click()
        await county.locator("#roster-status[data-status=approved]").wait_for()
    assert "已毕业 1 人" in await county.locator("#roster-graduated").inner_text()

    # R33: one graduate went on, by mistake, to the wrong school; the county status office rolls it back by clicks.
    records = workbench.services["transfer"].app.state.records

    async def graduated() -> bool:
        found = await records.find(graduates[0])
        return found is not None and found.state == "graduated"

    await wait_for(graduated)
    materials = [{"kind": k, "uri": f"school:{SCHOOL}/{k}", "sha256": hashlib.sha256(k.encode()).hexdigest()}
                 for k in ("registration_form", "status_basic_info", "household_register", "certificate_image")]  # fmt: skip
    application = {"kind": "progression", "student_id": graduates[0], "status": "graduated",
                   "graduated_on": today.isoformat(), "sending": {"code": JUNIOR_SCHOOL}, "receiving": {"code": SCHOOL},
                   "grade": 9, "target_grade": 10, "reason": "household_move", "household_register_changed": True,
                   "materials": materials}  # fmt: skip
    applied = await workbench.api(
        "transfer", "POST", "/v1/transfers", ("school", SCHOOL), json={"application": application}
    )
    assert applied.status_code == 201, applied.text
    tid = applied.json()["transfer_id"]
    steps = [("school", SCHOOL, "examination", {"conditions_met": True, "vacancy": True})]
    steps += [(role, code, f"stages/{stage}/decision", {"decision": "approve"}) for role, code, stage in (
        ("school", SCHOOL, "receiving_school"), ("county", "350602", "receiving_bureau"),
        ("school", JUNIOR_SCHOOL, "sending_school"), ("county", "350602", "sending_bureau"))]  # fmt: skip
    steps += [("school", SCHOOL, "notify-to-report", None)]
    steps += [("school", SCHOOL, "report", {"electronic_file": materials[0] | {"kind": "electronic_file"}})]
    for role, code, step, body in steps:
        done = await workbench.api("transfer", "POST", f"/v1/transfers/{tid}/{step}", (role, code), json=body)
        assert done.status_code in (200, 201), f"{step}: {done.text}"
    await county.goto(f"{workbench.url}#/case/{tid}")
    await county.locator("[data-fact=phase]").filter(has_text="已完成").wait_for()
    await shoot(county, "rollback")
    await county.get_by_text("撤回误转（R33）").first.click()
    await county.get_by_label("说明").fill("误录入其他学校，退回毕业学校")
    await assert_every_control_labelled(county)
    async with timed("roll back a transfer"):
        await county.get_by_role("button", name="撤回误转（R33）").click()
        await county.locator("[data-fact=phase]").filter(has_text="已撤回").wait_for()
    assert "撤回转学" in await county.locator("#case-history").inner_text()
