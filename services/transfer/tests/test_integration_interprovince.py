"""Two provincial stacks on one broker (R34): Hunan to Fujian, breached, accepted offline, completed."""

# Fujian (35) receives a student from a Hunan (43) school. Each province has its own topics and database; a mirror
# copies each one's interprovince.transfer.v1 to the other, as MirrorMaker 2 does between clusters. Hunan's parties
# see and decide their stages in Hunan; Fujian owns the case, breaches the Hunan stage, accepts offline, and
# completes and reconciles when Hunan's verifications arrive.

from __future__ import annotations

from datetime import date, timedelta

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from kafka_messages import published
from transfer_driver import RECEIVING, application, day, evidence, of_type, start

from xueji_contracts.topics import all_topic_names

pytestmark = pytest.mark.integration
HUNAN_SCHOOL, HUNAN_COUNTY = "4301020001", "430102"
TOPIC = "interprovince.transfer.v1"
PAPER_FORM = {
    "status_number": "G430102201603150024", "name": "周小满", "gender": "female", "birth_date": "2016-03-15",
    "segment": "primary", "grade": "3", "admitted_on": "2022-09-01", "class": "2",
}  # fmt: skip


async def test_r34_a_transfer_from_hunan_to_fujian_is_breached_accepted_offline_and_completed(
    start_app, token, isolation, wait_for, mirror
):
    bootstrap, hunan_prefix = isolation.servers.kafka, f"{isolation.topic_prefix}hn."
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(hunan_prefix + name, 1, 1) for name in all_topic_names()])
    await admin.close()
    monday = day(date(2025, 3, 10))
    fj = await start(start_app, token, monday)
    hn = await start(
        start_app, token, monday, province="43", topic_prefix=hunan_prefix, mongodb_database=f"{isolation.database}_hn"
    )
    # Each province's interprovince topic reaches the other, as through the national hub; only what a province
    # itself produced crosses, so nothing goes round in circles (MirrorMaker's cycle check).
    fujian_topic, hunan_topic = isolation.topic(TOPIC), hunan_prefix + TOPIC
    async with mirror((fujian_topic, hunan_topic, "35"), (hunan_topic, fujian_topic, "43")):
        tid = await fj.apply(application(sending=HUNAN_SCHOOL))
        await fj.examine(tid)
        await fj.approve(tid, "receiving_school")
        await fj.approve(tid, "receiving_bureau")

        # Hunan's school sees its stage in Hunan; Fujian's inbox does not hold it.
        hunan_todo = await wait_for(lambda: hn.inbox(HUNAN_SCHOOL))
        assert [(i["stage"], i["owner_province"]) for i in hunan_todo] == [("sending_school", "35")]

        # Nobody in Hunan answers: the stage breaches (escalated to the Hunan county), then the offline path opens.
        offline_due = next(x for x in (await fj.detail(tid))["armed_timers"] if x["kind"] == "offline")["due_at"]
        await fj.advance_to(day(date(2025, 4, 9), 1))
        assert offline_due.startswith("2025-04-08T16:00")
        chase = await wait_for(lambda: hn.inbox(HUNAN_COUNTY))
        assert [i["action"] for i in chase] == ["chase_stage"]
        await fj.ok("POST", f"/v1/transfers/{tid}/offline/consent", ("county", "350602"),
                    {"signed_form": evidence("signed_registration_form"), "cause": "system_failure"})  # fmt: skip
        # R23, R34: Fujian's registry has no record of a Hunan student; it starts one from the paper form.
        accept = f"/v1/transfers/{tid}/offline/acceptance"
        sketchy = await fj.call("POST", accept, ("school", RECEIVING), {"record": {"class": "2"}})
        assert sketchy.status_code == 422 and sketchy.json()["detail"][0]["field"] == "record.status_number"
        await fj.ok("POST", accept, ("school", RECEIVING), {"record": PAPER_FORM})

        # R34: Hunan, the sending province, may not refuse on Fujian's admission or scores, under any code.
        for code in ("score_below_receiving_requirement", "other"):
            refusal = {"reason_code": code, "reason": "成绩未达转入省要求"}
            refused = await hn.decide(tid, "sending_school", "reject", who=("school", HUNAN_SCHOOL), **refusal)
            assert refused.status_code == 422 and refused.json()["rule"] == "R34", refused.text
        # Hunan's verifications arrive after all, decided in Hunan and recorded by Fujian.
        other = await hn.decide(tid, "sending_school", who=("school", "4301020002"))
        assert other.status_code == 404  # no party of the case: told what a missing case answers (R50)
        forwarded = await hn.decide(tid, "sending_school", who=("school", HUNAN_SCHOOL))
        assert forwarded.status_code == 202 and forwarded.json()["forwarded_to_province"] == "35"

        async def bureau_stage() -> list:
            return [i for i in await hn.inbox(HUNAN_COUNTY) if i["stage"] == "sending_bureau"]

        await wait_for(bureau_stage)
        assert (await hn.decide(tid, "sending_bureau", who=("county", HUNAN_COUNTY))).status_code == 202

        async def consented() -> bool:
            return (await fj.detail(tid))["step"] == 6

        await wait_for(consented)
        fj.clock.now += timedelta(days=1)
        await fj.ok("POST", f"/v1/transfers/{tid}/notify-to-report", ("school", RECEIVING))
        report = {"electronic_file": evidence("electronic_file"), "system_record": {"class": "3"}}
        case = await fj.ok("POST", f"/v1/transfers/{tid}/report", ("school", RECEIVING), report)
        assert (case["phase"], case["offline"]) == ("completed", "reconciled")

        async def hunan_done() -> bool:
            return await hn.inbox(HUNAN_SCHOOL) == [] and await hn.inbox(HUNAN_COUNTY) == []

        await wait_for(hunan_done)
    outcomes = await published(
        bootstrap,
        isolation.topic("transfer.case.v1"),
        lambda ms: "reconciled" in [m["outcome"] for m in of_type(ms, "TransferCaseChanged", tid)],
    )
    assert [m["outcome"] for m in of_type(outcomes, "TransferCaseChanged", tid)] == [
        "opened", "offline_opened", "offline_accepted", "completed", "reconciled",
    ]  # fmt: skip
    accepted = next(m for m in of_type(outcomes, "TransferCaseChanged", tid) if m["outcome"] == "offline_accepted")
    assert accepted["paper_record"]["status_number"] == PAPER_FORM["status_number"]  # the registry starts from it
    assert all(m["paper_record"] is None for m in of_type(outcomes, "TransferCaseChanged", tid) if m is not accepted)
    # Hunan's own transfer.case.v1 carries the outcome too: Hunan's registry records the student leaving.
    hunan_cases = await published(
        bootstrap,
        hunan_prefix + "transfer.case.v1",
        lambda ms: "completed" in [m["outcome"] for m in of_type(ms, "TransferCaseChanged", tid)],
    )
    assert "completed" in [m["outcome"] for m in of_type(hunan_cases, "TransferCaseChanged", tid)]
    hunan_sla = await published(
        bootstrap, hunan_prefix + "transfer.sla.v1", lambda ms: of_type(ms, "StageBreached", tid)
    )
    assert of_type(hunan_sla, "StageBreached", tid)[0]["escalated_to"] == HUNAN_COUNTY
