"""A transfer case on the real broker and store: the 8 steps (R21), inboxes by jurisdiction (R50), refusals."""

from __future__ import annotations

from datetime import date

import pytest
from kafka_messages import published
from transfer_driver import RECEIVING, SENDING, STAGES, day, evidence, of_type, start

pytestmark = pytest.mark.integration
MONDAY = day(date(2025, 3, 10))


async def test_r21_a_case_goes_through_all_8_steps_and_publishes_each_stage(start_app, token, isolation):
    t = await start(start_app, token, MONDAY)
    tid = await t.apply()
    assert [i["action"] for i in await t.inbox(RECEIVING)] == ["decide_stage"]
    await t.examine(tid)
    for stage in STAGES:
        (code,) = {t.party(stage)[1]}
        assert [i["stage"] for i in await t.inbox(code)] == [stage], f"{stage} waits on {code}"
        await t.approve(tid, stage)
        assert await t.inbox(code) == [] or stage == "sending_bureau"
    await t.ok("POST", f"/v1/transfers/{tid}/notify-to-report", ("school", RECEIVING))
    report = {"electronic_file": evidence("electronic_file")}
    case = await t.ok("POST", f"/v1/transfers/{tid}/report", ("school", RECEIVING), report)
    assert (case["phase"], case["step"]) == ("completed", 8)
    assert [i["action"] for i in await t.inbox(SENDING)] == ["send_paper_file"]  # R32

    stage_topic = isolation.topic("transfer.stage.v1")
    stage_messages = await published(
        isolation.servers.kafka, stage_topic, lambda ms: len(of_type(ms, "StageClosed", tid)) == 4
    )
    opened = of_type(stage_messages, "StageOpened", tid)
    assert [(m["stage"], m["step"]) for m in opened] == list(zip(STAGES, range(3, 7), strict=True))
    assert [m["jurisdiction"] for m in opened] == [RECEIVING, "350602", SENDING, "350102"]
    assert all(m["deadline"]["calendar_version"].startswith("cn-") for m in opened)
    case_messages = await published(
        isolation.servers.kafka,
        isolation.topic("transfer.case.v1"),
        lambda ms: "completed" in [m["outcome"] for m in of_type(ms, "TransferCaseChanged", tid)],
    )
    assert [m["outcome"] for m in of_type(case_messages, "TransferCaseChanged", tid)] == ["opened", "completed"]
    detail = await t.detail(tid)
    assert [e["type"] for e in detail["history"]][:3] == ["transfer_applied", "stage_opened", "conditions_examined"]
    assert [t["kind"] for t in detail["armed_timers"]] == ["paper_file"]


async def test_r21_a_stage_cannot_be_decided_before_its_turn_and_the_answer_names_the_step(start_app, token):
    t = await start(start_app, token, MONDAY)
    tid = await t.apply()
    early = await t.decide(tid, "receiving_school")
    assert early.status_code == 409, early.text
    assert early.json()["rule"] == "R21" and early.json()["state"]["step"] == 1
    skipped = await t.decide(tid, "sending_school")
    assert skipped.status_code == 409
    assert "not open" in skipped.json()["reason"] and skipped.json()["state"]["open_stage"] == "receiving_school"


async def test_r50_county_cannot_decide_other_county_stage(start_app, token):
    t = await start(start_app, token, MONDAY)
    tid = await t.apply()
    await t.examine(tid)
    await t.approve(tid, "receiving_school")
    other_county = await t.decide(tid, "receiving_bureau", who=("county", "350102"))
    assert other_county.status_code == 403, other_county.text
    assert other_county.json()["rule"] == "R50"
    assert await t.inbox("350102") == []  # nor does it see the stage
    seen = await t.call("GET", f"/v1/transfers/{tid}", ("county", "350203"))
    assert seen.status_code == 404  # an outsider hears what a missing case answers (issue 15)
    peek = await t.call("GET", "/v1/inbox", ("county", "350102"), params={"code": RECEIVING})
    assert peek.status_code == 403
    assert [i["stage"] for i in await t.inbox("350602")] == ["receiving_bureau"]


async def test_r28_a_suspended_student_is_refused_naming_the_field(start_app, token):
    from transfer_driver import application

    t = await start(start_app, token, MONDAY)
    await t.known(state="suspended")
    answer = await t.call(
        "POST", "/v1/transfers", ("school", RECEIVING), {"application": application(status="suspended")}
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["rule"] == "R28" and "resume" in answer.json()["reason"]
    assert answer.json()["detail"][0]["field"] == "application.status"


async def test_r29_r30_reasons_and_materials_are_the_policy_files_and_refusals_name_the_field(start_app, token):
    from transfer_driver import application

    t = await start(start_app, token, MONDAY)
    await t.known()
    apply = ("POST", "/v1/transfers", ("school", RECEIVING))
    one_parent = await t.call(*apply, {"application": application(reason="guardian_relocation",
                                                                   guardians_moved="one_parent")})  # fmt: skip
    assert one_parent.status_code == 422 and one_parent.json()["rule"] == "R29"
    assert one_parent.json()["detail"][0]["field"] == "application.guardians_moved"
    talent = application(reason="vocational_talent", grade=11, target_grade=11)
    await t.known(grade=11)
    to_general = await t.call(*apply, {"application": talent})
    assert to_general.status_code == 422 and to_general.json()["detail"][0]["field"] == "application.receiving"

    # R30: Fujian's checklist before step 3; the household register is missing here.
    sparse = application(materials=[evidence(k) for k in ("registration_form", "status_basic_info", "reason_proof",
                                                           "certificate_image")])  # fmt: skip
    tid = await t.apply(sparse)
    await t.examine(tid)
    early = await t.decide(tid, "receiving_school")
    assert early.status_code == 422 and early.json()["rule"] == "R30", early.text
    assert "household_register" in early.json()["reason"]
    await t.ok("POST", f"/v1/transfers/{tid}/materials", ("school", RECEIVING),
               {"materials": [evidence("household_register")]})  # fmt: skip
    await t.approve(tid, "receiving_school")
