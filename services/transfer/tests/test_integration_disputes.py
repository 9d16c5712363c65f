"""R53 over HTTP against the running transfer service: the dispute route names the handling body, offers the school
and its county for a one-school matter, sends a complaint about the school's own act to the county, and returns each
body's published way to apply and phone number from the province policy file."""

from __future__ import annotations

import pytest

from xueji_transfer.app import create_app
from xueji_transfer.settings import TransferSettings

pytestmark = pytest.mark.integration


async def test_r53_the_dispute_route_returns_the_handler_how_to_apply_and_its_phone(start_app, token):
    transfer = await start_app(create_app, TransferSettings, scheduler_enabled=False)
    guardian_desk = {"Authorization": f"Bearer {token('county', '350602')}"}

    one_school = await transfer.get("/v1/disputes/route", params={"codes": ["3506020001"]}, headers=guardian_desk)
    assert one_school.status_code == 200, one_school.text
    route = one_school.json()
    assert (route["level"], route["code"]) == ("school", "3506020001")
    assert (route["alternative_level"], route["alternative_code"]) == ("county", "350602")
    assert route["alternative_channel"]["phone"] and route["alternative_channel"]["how_to_apply"]

    params = {"codes": ["3506020001"], "about_school_act": "true"}
    own_act = (await transfer.get("/v1/disputes/route", params=params, headers=guardian_desk)).json()
    assert (own_act["level"], own_act["code"], own_act["alternative_level"]) == ("county", "350602", None)
    assert own_act["channel"]["phone"] == "12345" and "县" in own_act["channel"]["how_to_apply"]

    two_cities = {"codes": ["3506020001", "3501020003"]}
    province = (await transfer.get("/v1/disputes/route", params=two_cities, headers=guardian_desk)).json()
    assert province["level"] == "province" and province["channel"]["how_to_apply"]

    bad = await transfer.get("/v1/disputes/route", params={"codes": ["35060"]}, headers=guardian_desk)
    assert bad.status_code == 422
