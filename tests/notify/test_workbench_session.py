"""Workbench sessions in a real browser (Debian's Chromium): signed in from a one-time sign-in code, never a token
in an address or a cookie; the token is renewed at the local stack's issuer before it runs out, so an operator stays
signed in for the working day; without renewal the page warns before expiry and signs out at it (issue 18)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from base64 import urlsafe_b64decode
from datetime import timedelta
from typing import Any

import pytest
from common import free_port
from issuer import create_issuer

from xueji_contracts.auth import OperatorClaims
from xueji_kit.security import mint_token
from xueji_notify.app import create_app as create_notify
from xueji_notify.settings import NotifySettings

pytestmark = [pytest.mark.integration, pytest.mark.browser]
SCHOOL = "3506020001"


def claims_of(token: str) -> dict[str, Any]:
    body = token.split(".")[1]
    return dict(json.loads(urlsafe_b64decode(body + "=" * (-len(body) % 4))))


@pytest.fixture
async def stack(serve, signing_keys):
    """Notify (the page) and the development issuer on loopback ports; the other services are not needed here."""
    import uvicorn

    port, issuer_port = free_port(), free_port()
    issuer = create_issuer(signing_keys[0], signing_keys[1], [f"http://127.0.0.1:{port}"])
    server = uvicorn.Server(uvicorn.Config(issuer, host="127.0.0.1", port=issuer_port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.05)
    at = f"http://127.0.0.1:{issuer_port}"
    notify = await serve(create_notify, NotifySettings, port=port, workbench_token_refresh_url=f"{at}/refresh",
                         workbench_token_exchange_url=f"{at}/exchange")  # fmt: skip
    try:
        yield notify, issuer
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 10)


async def _page(chromium: Any) -> tuple[Any, list[str], list[str]]:
    context = await chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = await context.new_page()
    urls: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return page, urls, errors


async def test_r50_signed_in_by_a_one_time_code_and_renewed_before_expiry_with_no_token_in_any_address(
    stack, chromium, signing_keys
):
    notify, issuer = stack
    page, urls, errors = await _page(chromium)
    code = issuer.state.sign_in_code("school", SCHOOL)
    await page.goto(f"{notify.base_url}/workbench#code={code}")
    await page.locator("#tab-list a").first.wait_for()
    assert "code=" not in page.url and "#" not in page.url  # the code leaves the address bar at once
    first = await page.evaluate("sessionStorage.getItem('xueji.token')")
    assert claims_of(first)["code"] == SCHOOL

    # The SLA dashboard's link signs in the same way.
    board, _, board_errors = await _page(chromium)
    await board.goto(f"{notify.base_url}/dashboard#code={issuer.state.sign_in_code('province', '350000')}")
    await board.wait_for_function("sessionStorage.getItem('xueji.token') !== null")
    assert "code=" not in board.url
    assert claims_of(await board.evaluate("sessionStorage.getItem('xueji.token')"))["role"] == "province"
    assert not board_errors, board_errors
    await board.context.close()

    # The code is spent: the same link again only shows the sign-in form.
    other, _, _ = await _page(chromium)
    await other.goto(f"{notify.base_url}/workbench#code={code}")
    await other.locator("#signin-form").wait_for()
    assert await other.evaluate("sessionStorage.getItem('xueji.token')") is None
    await other.context.close()

    # A token ten minutes and three seconds from its end is renewed at the issuer before it runs out.
    claims = OperatorClaims.model_validate({"sub": "t-school", "role": "school", "code": SCHOOL})
    short = mint_token(signing_keys[0], claims, ttl=timedelta(minutes=10, seconds=3))
    await page.get_by_role("button", name="退出").click()
    await page.get_by_label("操作员令牌 (JWT)").fill(short)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_function(f"sessionStorage.getItem('xueji.token') !== {json.dumps(short)}", timeout=20_000)
    renewed = await page.evaluate("sessionStorage.getItem('xueji.token')")
    assert claims_of(renewed)["exp"] - claims_of(short)["exp"] > 11 * 3600  # a working day from now
    assert (claims_of(renewed)["sub"], claims_of(renewed)["code"]) == ("t-school", SCHOOL)
    assert "登录有效至" in await page.locator("#session").inner_text()

    # A write whose answer is a 503 is sent once more after Retry-After with the same Idempotency-Key (one action).
    sent: list[dict[str, str]] = []

    async def away_once(route: Any) -> None:
        sent.append(route.request.headers)
        if len(sent) == 1:
            await route.fulfill(status=503, headers={"Retry-After": "1"}, json={"detail": "store unavailable"})
        else:
            await route.continue_()

    await page.route("**/v1/inbox/n-missing/read", away_once)
    answer = await page.evaluate("window.XUEJI_WB.api('notify', '/v1/inbox/n-missing/read', {method: 'POST'})")
    assert len(sent) == 2 and sent[0]["idempotency-key"] == sent[1]["idempotency-key"]
    assert sent[0]["idempotency-key"].startswith("wb-") and answer["status"] == 404

    for token in (first, short, renewed):
        assert not any(token.split(".")[2] in u for u in urls)
    assert await page.context.cookies() == []
    assert not errors, errors
    await page.context.close()


async def test_r50_without_renewal_the_page_warns_before_expiry_and_signs_out_at_it(stack, chromium, signing_keys):
    notify, _ = stack
    page, _, errors = await _page(chromium)
    await page.goto(f"{notify.base_url}/workbench")
    await page.locator("#signin-form").wait_for()
    # As where no identity provider renews tokens (no refresh address configured).
    await page.evaluate("window.XUEJI_WB.state.config.refresh_url = ''")
    claims = OperatorClaims.model_validate({"sub": "t-county", "role": "county", "code": "350602"})
    await page.get_by_label("操作员令牌 (JWT)").fill(mint_token(signing_keys[0], claims, ttl=timedelta(seconds=8)))
    await page.get_by_role("button", name="登录").click()
    warning = page.locator("#session.ending[role=alert]")
    await warning.wait_for(timeout=5_000)
    assert "无法自动续期" in await warning.inner_text() and "重新登录" in await warning.inner_text()
    await page.locator("#signin-reason").filter(has_text="登录已过期").wait_for(timeout=20_000)
    assert await page.evaluate("sessionStorage.getItem('xueji.token')") is None
    assert not errors, errors
    await page.context.close()
