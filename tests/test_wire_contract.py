"""What subscribers really receive is what we publish as the contract: every message the services put on a topic in a
realistic flow, read back from the broker as bytes, validates against the JSON Schema of its topic's message in the
checked-in AsyncAPI documents (contracts/asyncapi/; the producer's published schema and every documented subscriber's),
with `jsonschema`, which shares no code with pydantic (pydantic writes both the schema and the message, so a mismatch
between the two is invisible to every other test). The envelope's `type` must name one of the topic's payload schemas,
and the payload validate against that one alone: a subscriber dispatches on `type`. The Kafka record around it is
checked too: its key (each topic's key in xueji_contracts.topics; docs/subscribers.md: the public topics by the opaque
student_id) and the headers the documents promise (`correlation_id`, the AsyncAPI correlationId, as the envelope's;
`content-type`; `xueji-province` and `xueji-province-<code>`, as in the documents' examples, which the mirrors route
by). On the public feed, what docs/subscribers.md promises (no personal data, sequences, `before`, the snapshot).

The flow, over the real broker and store with all four services and the national tier: enrollment (one student; a
class upload with a row refused at upload and a row dedupe refuses as a duplicate, R01, R06), the spring G-number
batch (R03), a suspected duplicate released by the county and another found the same person (R14), a transfer through
its approval chain to completion and another refused at a stage after its SLA warning and breach (R21, R22; transfer
on a clock the test moves, from a Monday in term), a transfer from a Hunan school and one to a Hunan school, which sends the status file
(R34), a suspension (R40), a graduate's R08 exception and an R27 one, a holiday notice (R31) and a webhook whose
deliveries fail. Hunan's transfer and the national tier's dedupe publish on their own topics, checked the same way.
Topics the flow does not put a message on are listed in NOT_EXERCISED with the reason."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import jsonschema
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from xueji_contracts.calendar import local_date
from xueji_contracts.topics import ALL_TOPICS, all_topic_names, dlq
from xueji_dedupe.app import create_app as create_dedupe
from xueji_dedupe.settings import DedupeSettings
from xueji_notify.app import create_app as create_notify
from xueji_notify.settings import NotifySettings
from xueji_registry.app import create_app as create_registry
from xueji_registry.domain.periods import term_of
from xueji_registry.settings import RegistrySettings
from xueji_transfer.app import create_app as create_transfer
from xueji_transfer.settings import TransferSettings

# Four services, the national tier and Hunan's transfer through a long story: about a minute alone, more on a busy machine.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(360)]

ASYNCAPI = Path(__file__).resolve().parents[1] / "contracts" / "asyncapi"
SERVICES = ("registry", "transfer", "dedupe", "notify")
PUBLIC = {t.name for t in ALL_TOPICS if t.public}
KEYS = {t.name: t.key for t in ALL_TOPICS}

# Topics an AsyncAPI document describes that this flow puts no message on, and why. Each is still checked: if the
# flow does put a message there, it is validated like any other (and the test says to take it off this list).
NOT_EXERCISED = {
    "transfer.decision.v1": "published by other provincial systems, never by a xueji service (transfer consumes it)",
}

SCHOOL, COUNTY = "3506020001", "350602"
NEIGHBOUR_SCHOOL, NEIGHBOUR_COUNTY = "3506030001", "350603"
SENDING, RECEIVING, RECEIVING_COUNTY = "3506020201", "3501020003", "350102"
HUNAN_SCHOOL, HUNAN_RECEIVING = "4301020001", "4301030001"
MONDAY = datetime(2026, 10, 12, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
CHILD = {"school_code": SCHOOL, "name": "林小明", "id_number": "350602201402140011", "gender": "male",
         "birth_date": "2014-02-14", "grade": 1, "school_year": 2026}  # fmt: skip
PUPIL = {"school_code": SENDING, "name": "许安然", "gender": "female", "birth_date": "2016-05-02", "grade": 4,
         "school_year": 2026}  # fmt: skip
OTHER_PUPIL = {"school_code": SENDING, "name": "欧阳子涵", "gender": "male", "birth_date": "2016-08-19", "grade": 4,
               "school_year": 2026}  # fmt: skip
GRADUATE = {"school_code": "3506020401", "name": "王思远", "gender": "male", "birth_date": "2011-06-01", "grade": 6,
            "school_year": 2026}  # fmt: skip
HEADER = ["姓名", "性别", "出生日期", "身份证件号", "年级", "入学日期", "监护人姓名", "户籍所在地"]
SIYU = ["陈思雨", "女", "2019-05-01", "350602201905010163", "1", "", "", ""]
MISTYPED = ["黄一凡", "男", "2019-03-15", "350602201903151236", "1", "", "", ""]  # its check character fails (R06)
SAME_ID = ["李子轩", "男", "2014-02-14", CHILD["id_number"], "1", "", "", ""]  # 林小明's ID number again (R01)
MATERIALS = ("registration_form", "status_basic_info", "household_register", "reason_proof", "certificate_image")

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    """RFC 3339 date-time (JSON Schema's `date-time`): full date, time and an offset; jsonschema checks it only with
    an optional package this project does not have, so the check is spelt out here."""
    if not isinstance(value, str):
        return True
    if not RFC3339.match(value):
        return False
    datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    return True


@FORMATS.checks("date", raises=ValueError)
def _date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) is not None and date.fromisoformat(value) is not None


def _documents() -> dict[str, dict[str, Any]]:
    return {service: json.loads((ASYNCAPI / f"{service}.json").read_text()) for service in SERVICES}


def _validator(document: dict[str, Any], ref: str) -> jsonschema.Draft202012Validator:
    """A validator of one message payload (`ref` into the document's components), resolving refs in the document."""
    return jsonschema.Draft202012Validator({**document, "$ref": ref}, format_checker=FORMATS)


def _channels(documents: dict[str, dict[str, Any]]) -> dict[str, dict[str, list[tuple[str, str]]]]:
    """topic -> {"publish": [(service, ref)], "subscribe": [(service, ref)]}: each message schema a document gives the
    topic, on the side its service is (a publisher's channel is named `<service>:<topic>`)."""
    topics: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for service, document in documents.items():
        messages = document["components"]["messages"]
        for name, channel in document["channels"].items():
            side = "publish" if name.startswith(f"{service}:") else "subscribe"
            for message in channel["messages"].values():
                ref = messages[unquote(message["$ref"].rsplit("/", 1)[-1])]["payload"]["$ref"]
                topics.setdefault(channel["address"], {"publish": [], "subscribe": []})[side].append((service, ref))
    return topics


async def _records(bootstrap: str, topic: str) -> list[Any]:
    """Every record on `topic` now, from its start to its end offsets, as the broker holds them."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    found: list[Any] = []
    try:
        while not consumer.assignment():
            found += [r for records in (await consumer.getmany(timeout_ms=200)).values() for r in records]
        ends = await consumer.end_offsets(list(consumer.assignment()))
        while [p for p, end in ends.items() if await consumer.position(p) < end]:
            found += [r for records in (await consumer.getmany(timeout_ms=200)).values() for r in records]
    finally:
        await consumer.stop()
    return found


def _type_problems(where: str, message: dict[str, Any], published: list[tuple[str, str]], documents: dict) -> list[str]:
    """A subscriber dispatches on the envelope's `type`: it must name the payload schema the topic's message carries
    (one of them where the topic carries several), and the payload must validate against that schema alone."""
    problems = []
    for service, ref in published:
        document = documents[service]
        envelope = document["components"]["schemas"][unquote(ref.rsplit("/", 1)[-1])]
        payload = envelope["properties"]["payload"]
        names = [unquote(p["$ref"].rsplit("/", 1)[-1]) for p in payload.get("anyOf", [payload]) if "$ref" in p]
        if message.get("type") not in names:
            problems.append(f"{where}: type {message.get('type')!r} is none of the topic's payloads {names}")
            continue
        named = _validator(document, f"#/components/schemas/{message['type']}")
        problems += [f"{where}: payload is not a {message['type']}: {e.message[:300]}"
                     for e in list(named.iter_errors(message.get("payload")))[:5]]  # fmt: skip
    return problems


def _problems_of(
    topic: str, record: Any, sides: dict[str, list[tuple[str, str]]], validators: dict, documents: dict
) -> list[str]:
    """What is wrong with one record on `topic` for a subscriber reading it by the documents."""
    where = f"{record.topic.split('.', 1)[-1]}@{record.offset}"  # without the test's prefix: hn.*, hub.* are others'
    try:
        message = json.loads(record.value)
    except ValueError as error:
        return [f"{where}: not JSON ({error})"]
    kind = message.get("type") if isinstance(message, dict) else None
    where += f" ({kind})"
    problems = []
    # The producer's own document; a message forwarded as it was (the registry's identities that dedupe sends to the
    # national tier keep their envelope) is the forwarding service's publication: every document publishing the topic.
    published = [(s, ref) for s, ref in sides["publish"] if s == message.get("producer")] or sides["publish"]
    for side, schemas in (("published", published), ("subscribed", sides["subscribe"])):
        for service, ref in schemas:
            errors = sorted(validators[service, ref].iter_errors(message), key=lambda e: list(e.absolute_path))
            problems += [
                f"{where}: {side} schema of {service} ({unquote(ref.rsplit('/', 1)[-1])}): "
                f"/{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}"
                for e in errors[:5]
            ]
    problems += _type_problems(where, message, published, documents)
    headers = {name: value.decode() for name, value in record.headers}
    province = message.get("province")
    expected = {"content-type": "application/json", "correlation_id": message.get("correlation_id"),
                "xueji-province": province, f"xueji-province-{province}": "1"}  # fmt: skip
    problems += [
        f"{where}: header {h}={headers.get(h)!r}, not {v!r}" for h, v in expected.items() if headers.get(h) != v
    ]
    key_field = KEYS.get(topic)
    payload = message.get("payload") if isinstance(message.get("payload"), dict) else {}
    key = payload.get(key_field, message.get(key_field))
    if key is not None and (record.key or b"").decode() != str(key):
        problems.append(f"{where}: key {record.key!r}, not its {key_field} {key!r}")
    if topic in PUBLIC and (key is None or not record.key):
        problems.append(f"{where}: a public message must be keyed by its student_id (docs/subscribers.md)")
    return problems


class Clock:
    """Transfer's clock, set by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _as(token, role: str, code: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, code)}"}


def _evidence(kind: str) -> dict[str, str]:
    return {"kind": kind, "uri": f"s3://evidence/{kind}.pdf", "sha256": hashlib.sha256(kind.encode()).hexdigest()}


def _application(student_id: str) -> dict[str, object]:
    return {
        "student_id": student_id, "status": "enrolled", "sending": {"code": SENDING}, "receiving": {"code": RECEIVING},
        "grade": 4, "target_grade": 4, "term": {"start": "2026-09-01", "end": "2027-01-22", "semester": 1},
        "reason": "household_move", "materials": [_evidence(kind) for kind in MATERIALS],
    }  # fmt: skip


def _csv(rows: list[list[str]]) -> bytes:
    return "\n".join(",".join(r) for r in [HEADER, *rows]).encode("utf-8-sig")


async def _flow(start_app, isolation, token, wait_for, national_tier, mirror, tmp_path) -> None:
    register = tmp_path / "register.json"
    person = {k: CHILD[k] for k in ("id_number", "name", "birth_date", "gender")}
    register.write_text(json.dumps([person], ensure_ascii=False))
    async with national_tier(register):  # the national tier's verdicts come back to this province (R03)
        await _province(start_app, isolation, token, wait_for, mirror)


async def _province(start_app, isolation, token, wait_for, mirror) -> None:
    dedupe = await start_app(create_dedupe, DedupeSettings)
    registry = await start_app(create_registry, RegistrySettings)
    # Transfer on its own clock, from a Monday in term (R25, R27 judge the day), moved on by the test (R22 timers).
    transfer = await start_app(create_transfer, TransferSettings, scheduler_enabled=False)
    clock = Clock(MONDAY)
    transfer.app.state.transfer.clock = clock
    # Deliveries fail at once (nothing listens on the discard port) and are dead-lettered after the first attempt.
    notify = await start_app(create_notify, NotifySettings, webhook_max_attempts=1, webhook_tick_seconds=0.1,
                             webhook_timeout_seconds=1.0)  # fmt: skip
    school, county = _as(token, "school", SCHOOL), _as(token, "county", COUNTY)
    province = _as(token, "province", "350000")

    async def indexed(records: int) -> bool:
        return (await dedupe.get("/v1/index", headers=province)).json()["records"] >= records

    async def settled(student_id: str, headers: dict[str, str]) -> dict[str, Any] | None:
        view = (await registry.get(f"/v1/students/{student_id}", headers=headers)).json()
        return None if view.get("state") in (None, "awaiting_duplicate_check") else view

    async def enroll(body: dict[str, Any], state: str = "enrolled") -> str:
        """The student's id once enrolled; 202 when dedupe has not answered in time (a loaded machine)."""
        headers = _as(token, "school", body["school_code"])
        answer = await registry.post("/v1/students", json=body, headers=headers)
        assert answer.status_code in (201, 202), answer.text
        view = await wait_for(lambda: settled(answer.json()["student_id"], headers), timeout=45)
        assert view["state"] == state, view
        return str(answer.json()["student_id"])

    # The school's webhook, whose deliveries fail (notify.webhook.dlq).
    hook = {"url": "https://127.0.0.1:9/xueji", "consent_reference": "闽教基〔2026〕12号"}
    registered = await notify.post("/v1/webhooks", json=hook, headers=school)
    assert registered.status_code == 201, registered.text

    # Enrollment, one student.
    child = await enroll(CHILD)
    await wait_for(lambda: indexed(1))
    # The spring batch asks the national tier for 林小明's G number (R03): duplicate check and register comparison.
    started = await registry.post("/v1/formal-numbers/batches", json={"school_year": 2026}, headers=county)
    assert started.status_code == 202 and started.json()["asked"] == 1, started.text
    batch = f"/v1/formal-numbers/batches/{started.json()['batch_id']}"

    async def issued() -> dict[str, Any] | None:
        report = (await registry.get(batch, headers=county)).json()
        return report if not report["waiting"] else None

    assert (await wait_for(issued, timeout=45))["issued"] == [child]

    # A class upload: one row enrolled, one refused at upload (R06), one refused by dedupe as a duplicate (R01).
    uploaded = await registry.post(
        "/v1/students/bulk", files={"file": ("class.csv", _csv([SIYU, MISTYPED, SAME_ID]), "text/csv")},
        data={"school_code": SCHOOL, "school_year": "2026"}, headers=school,
    )  # fmt: skip
    assert uploaded.status_code == 200, uploaded.text
    assert [e["row"] for e in uploaded.json()["errors"]] == [3]
    rows = {s["row"]: s["student_id"] for s in uploaded.json()["students"]}
    siyu = (await wait_for(lambda: settled(rows[2], school)))["student_id"]
    refused = await wait_for(lambda: settled(rows[4], school))
    assert (refused["state"], refused["rule"]) == ("refused", "R01"), refused

    # A suspected duplicate (no ID number, a homophone, the same birth date, the next county) goes to the county's
    # review (R14), which releases it.
    maybe = {**CHILD, "school_code": NEIGHBOUR_SCHOOL, "name": "林晓明", "id_number": None}
    held = await enroll(maybe, "pending_review")
    neighbour = _as(token, "county", NEIGHBOUR_COUNTY)

    async def open_case(student_id: str) -> list[dict[str, Any]]:
        cases = (await dedupe.get("/v1/review-cases", params={"state": "open"}, headers=neighbour)).json()["cases"]
        return [c for c in cases if c["student_id"] == student_id]

    [case] = await wait_for(lambda: open_case(held))
    # The county lets it run late: warned, then overdue and escalated to the city (R14's R22 working days).
    for moment in ("warn_at", "due_at"):
        await dedupe.app.state.deadlines.tick(datetime.fromisoformat(case[moment]) + timedelta(minutes=1))
    decided = await dedupe.post(f"/v1/review-cases/{case['case_id']}/decision",
                                json={"decision": "different_person", "reason": "户籍核实为不同儿童"}, headers=neighbour)  # fmt: skip
    assert decided.status_code == 200, decided.text

    async def released() -> bool:
        view = (await registry.get(f"/v1/students/{held}", headers=neighbour)).json()
        return view.get("state") == "enrolled"

    await wait_for(released)
    # The same look-alike enrolled again at another school of that county: the county finds it the same child, and the
    # record is refused as a duplicate (R01, R14).
    again = {**maybe, "school_code": "3506030002"}
    twice = await enroll(again, "pending_review")
    [case] = await wait_for(lambda: open_case(twice))
    decided = await dedupe.post(f"/v1/review-cases/{case['case_id']}/decision",
                                json={"decision": "same_person", "reason": "同一儿童重复建籍"}, headers=neighbour)  # fmt: skip
    assert decided.status_code == 200, decided.text

    async def closed() -> bool:
        view = (await registry.get(f"/v1/students/{twice}", headers=neighbour)).json()
        return bool(view.get("closed"))

    await wait_for(closed)

    # A transfer through its approval chain (R21) to completion, and another refused at the sending school.
    sending, receiving = _as(token, "school", SENDING), _as(token, "school", RECEIVING)
    records = transfer.app.state.records
    pupils = [await enroll(PUPIL), await enroll(OTHER_PUPIL)]
    for pupil in pupils:
        await wait_for(lambda pupil=pupil: records.find(pupil))  # the registry's status reached transfer
    cases = []
    for pupil in pupils:
        applied = await transfer.post("/v1/transfers", json={"application": _application(pupil)}, headers=receiving)
        assert applied.status_code == 201, applied.text
        cases.append(f"/v1/transfers/{applied.json()['transfer_id']}")
    receiving_county, sending_county = _as(token, "county", RECEIVING_COUNTY), _as(token, "county", COUNTY)
    approve = {"decision": "approve"}
    steps = [(receiving, "examination", {"conditions_met": True, "vacancy": True}),
             (receiving, "stages/receiving_school/decision", approve),
             (receiving_county, "stages/receiving_bureau/decision", approve),
             (sending, "stages/sending_school/decision", approve),
             (sending_county, "stages/sending_bureau/decision", approve),
             (receiving, "notify-to-report", None),
             (receiving, "report", {"electronic_file": _evidence("electronic_file")})]  # fmt: skip
    for headers, step, body in steps:
        answer = await transfer.post(f"{cases[0]}/{step}", json=body, headers=headers)
        assert answer.status_code in (200, 201), f"{step}: {answer.text}"
    assert answer.json()["phase"] == "completed"
    for headers, step, body in steps[:3]:
        answer = await transfer.post(f"{cases[1]}/{step}", json=body, headers=headers)
        assert answer.status_code in (200, 201), f"{step}: {answer.text}"
    refusal = {"decision": "reject", "reason_code": "other", "reason": "学生已在本校继续就读，监护人撤回转学意向"}

    # The sending school's stage is left open until transfer warns about it and it breaches (R22), then refused.
    timers = transfer.app.state.timers
    late = MONDAY + timedelta(days=16)  # past the 10 working days from Monday 12 October (due 26 October, 24:00)
    while due := sorted(t["due_at"] for t in await timers.store.armed() if t["due_at"] <= late):
        clock.now = due[0] + timedelta(seconds=1)
        await timers.tick(clock.now)
    clock.now = late

    async def breached() -> bool:
        sla = await _records(isolation.servers.kafka, isolation.topic("transfer.sla.v1"))
        return "StageBreached" in [json.loads(r.value)["type"] for r in sla]

    await wait_for(breached, timeout=60)
    rejected = await transfer.post(f"{cases[1]}/stages/sending_school/decision", json=refusal, headers=sending)
    assert rejected.status_code == 200 and rejected.json()["phase"] == "rejected", rejected.text

    async def moved() -> bool:
        view = (await registry.get(f"/v1/students/{pupils[0]}", headers=receiving_county)).json()
        return view.get("school_code") == RECEIVING

    await wait_for(moved)

    # The refused pupil then moves to a Hunan school (R34): Hunan's transfer owns the case, Fujian's school and bureau
    # verify through Fujian's transfer, and on completion Fujian's registry records the pupil transferred out and
    # sends the electronic status file (interprovince.file.v1). The provinces' interprovince topics are mirrored.
    hunan = f"{isolation.topic_prefix}hn."
    admin = AIOKafkaAdminClient(bootstrap_servers=isolation.servers.kafka)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(hunan + name, 1, 1) for name in all_topic_names()])
    finally:
        await admin.close()
    hn = await start_app(create_transfer, TransferSettings, province="43", topic_prefix=hunan,
                         mongodb_database=f"{isolation.database}_hn", scheduler_enabled=False)  # fmt: skip
    hn.app.state.transfer.clock = clock
    ours, theirs = isolation.topic("interprovince.transfer.v1"), f"{hunan}interprovince.transfer.v1"
    hunan_school, hunan_county = _as(token, "school", HUNAN_RECEIVING), _as(token, "county", HUNAN_RECEIVING[:6])
    async with mirror((ours, theirs, "35"), (theirs, ours, "43")):
        outbound = {**_application(pupils[1]), "receiving": {"code": HUNAN_RECEIVING}}
        applied = await hn.post("/v1/transfers", json={"application": outbound}, headers=hunan_school)
        assert applied.status_code == 201, applied.text
        case = f"/v1/transfers/{applied.json()['transfer_id']}"
        for headers, step, body in [(hunan_school, "examination", {"conditions_met": True, "vacancy": True}),
                                    (hunan_school, "stages/receiving_school/decision", approve),
                                    (hunan_county, "stages/receiving_bureau/decision", approve)]:  # fmt: skip
            answer = await hn.post(f"{case}/{step}", json=body, headers=headers)
            assert answer.status_code in (200, 201), f"{step}: {answer.text}"
        for headers, stage in ((sending, "sending_school"), (sending_county, "sending_bureau")):

            async def decided(headers: dict[str, str] = headers, stage: str = stage) -> bool:
                answer = await transfer.post(f"{case}/stages/{stage}/decision", json=approve, headers=headers)
                return answer.status_code == 202  # forwarded to Hunan once Fujian's transfer knows the stage

            await wait_for(decided)

            async def recorded(stage: str = stage) -> bool:
                detail = (await hn.get(case, headers=_as(token, "province", "430000"))).json()
                return detail["case"]["stages"][stage]["status"] == "approved"

            await wait_for(recorded)
        for step, body in (("notify-to-report", None), ("report", {"electronic_file": _evidence("electronic_file")})):
            answer = await hn.post(f"{case}/{step}", json=body, headers=hunan_school)
            assert answer.status_code in (200, 201), f"{step}: {answer.text}"
        assert answer.json()["phase"] == "completed", answer.text

        async def left() -> bool:
            view = (await registry.get(f"/v1/students/{pupils[1]}", headers=sending_county)).json()
            return view.get("state") == "transferred"

        await wait_for(left, timeout=45)

    # A suspension (R40): the school asks, the county approves.
    changes = f"/v1/students/{siyu}/changes"
    term = term_of(local_date(datetime.now(UTC))).model_dump(mode="json")
    suspend = {"reason": "因病休学", "details": {"kind": "suspend", "cause": "illness", "term": term},
               "evidence": [_evidence("suspension_application"), _evidence("medical_certificate")]}  # fmt: skip
    asked = await registry.post(changes, json=suspend, headers=school)
    assert asked.status_code == 200, asked.text
    review = f"{changes}/{asked.json()['pending_changes'][0]['change_id']}/review"
    approved = await registry.post(review, json={"approve": True, "reason": "材料齐全"}, headers=county)
    assert approved.json()["state"] == "suspended", approved.text

    # A transfer from a Hunan school (R34): once the Fujian side has verified, the Hunan school's stage goes to Hunan
    # on interprovince.transfer.v1.
    inbound = {**_application("stu_from_hunan"), "sending": {"code": HUNAN_SCHOOL}}
    applied = await transfer.post("/v1/transfers", json={"application": inbound}, headers=receiving)
    assert applied.status_code == 201, applied.text
    for headers, step, body in steps[:3]:
        answer = await transfer.post(
            f"/v1/transfers/{applied.json()['transfer_id']}/{step}", json=body, headers=headers
        )
        assert answer.status_code in (200, 201), f"{step}: {answer.text}"

    # A primary graduate (R46) whose lost certificate is reissued twice, the second time on an exception the county
    # records (R08).
    graduate_school = _as(token, "school", GRADUATE["school_code"])
    graduate_id = await enroll(GRADUATE)
    changes = f"/v1/students/{graduate_id}/changes"
    graduate = {"reason": "小学毕业", "details": {"kind": "graduate", "graduation_year": 2027}}
    done = await registry.post(changes, json=graduate, headers=graduate_school)
    assert done.status_code == 200 and done.json()["state"] == "graduated", done.text
    history = (await registry.get(f"/v1/students/{graduate_id}/history", headers=county)).json()
    number = next(e["certificate_number"] for e in history["history"] if e["type"] == "graduated")
    reissue = {"reason": "毕业证书遗失", "evidence": [_evidence("loss_statement")],
               "details": {"kind": "reissue_certificate", "certificate_number": number}}  # fmt: skip
    for second in (False, True):
        if second:
            exception = {"rule": "R08", "clause": "second_reissue", "certificate_number": number,
                         "reason": "补发证书在邮寄中遗失，经县教育局核实", "evidence": [_evidence("supporting_document")]}  # fmt: skip
            recorded = await registry.post(f"/v1/students/{graduate_id}/exceptions", json=exception,
                                           headers=county)  # fmt: skip
            assert recorded.status_code == 200, recorded.text
        asked = await registry.post(changes, json=reissue, headers=graduate_school)
        assert asked.status_code == 200, asked.text
        review = f"{changes}/{asked.json()['pending_changes'][0]['change_id']}/review"
        approved = await registry.post(review, json={"approve": True, "reason": "审核补发"}, headers=county)
        assert approved.status_code == 200, approved.text

    # An exception to R27 recorded by a receiving county bureau; a holiday notice loaded (R31).
    exception = {"rule": "R27", "clause": "graduation_grade_last_semester", "student_id": pupils[1],
                 "receiving_school": SCHOOL, "reason": "监护人工作调动，学生须随迁",
                 "evidence": [_evidence("reason_proof")]}  # fmt: skip
    recorded = await transfer.post("/v1/exceptions", json=exception, headers=county)
    assert recorded.status_code == 201, recorded.text
    year = max(transfer.app.state.transfer.calendars.current.notice_years) + 1
    notice = {"year": year, "rest_days": [f"{year}-01-01"], "names": {f"{year}-01-01": "元旦"}, "source": "test"}
    loaded = await transfer.post("/v1/admin/calendar/notices", json=notice, headers=province)
    assert loaded.status_code == 200, loaded.text

    # notify has read what it subscribes to (so its dead letters, if any, are on their topics by now).
    async def heard() -> bool:
        summary = await notify.get("/v1/dashboard/exceptions", headers=county)
        return summary.status_code == 200 and summary.json()["total"] >= 2

    await wait_for(heard)
    await wait_for(lambda: notify.app.state.notify.calendar.version == loaded.json()["calendar_version"])
    await wait_for(lambda: _records(isolation.servers.kafka, isolation.topic("notify.webhook.dlq")))


def _public_feed_problems(status: list[Any], snapshots: list[Any]) -> list[str]:
    """docs/subscribers.md on the records themselves: no name, ID number or birth date of the flow's children on the
    public topics and status numbers masked; each student's `sequence` 1, 2, 3, ... without gaps in the order of the
    topic, `before` null where the record starts (the first change) and present on every later one; the snapshot with
    the highest sequence of each student is the feed's last change of that student."""
    personal = [v for person in (CHILD, PUPIL, OTHER_PUPIL, GRADUATE) for k, v in person.items()
                if k in ("name", "id_number", "birth_date") and v] + [SIYU[0], SIYU[2], SIYU[3], SAME_ID[0]]  # fmt: skip
    problems = []
    for record in status + snapshots:
        where = f"{record.topic}@{record.offset}"
        text = record.value.decode() + (record.key or b"").decode() + repr(record.headers)
        problems += [f"{where}: carries {p!r}" for p in personal if p in text]
        masked = json.loads(record.value)["payload"]["status_number_masked"]
        if "*" not in masked or re.search(r"\d{8}", masked):
            problems.append(f"{where}: status number not masked: {masked}")
    last: dict[str, dict[str, Any]] = {}
    for change in (json.loads(r.value)["payload"] for r in status):
        held = last.get(change["student_id"])
        if change["sequence"] != (held["sequence"] + 1 if held else 1):
            problems.append(f"{change['student_id']}: sequence {change['sequence']} after {held and held['sequence']}")
        if (change["before"] is None) != (held is None):
            problems.append(f"{change['student_id']} {change['change']}: before {change['before']}")
        last[change["student_id"]] = change
    latest: dict[str, dict[str, Any]] = {}
    for snapshot in (json.loads(r.value)["payload"] for r in snapshots):
        if snapshot["sequence"] >= latest.get(snapshot["student_id"], {}).get("sequence", 0):
            latest[snapshot["student_id"]] = snapshot
    if latest.keys() != last.keys():
        problems.append(f"students in the snapshot and in the feed differ: {sorted(latest.keys() ^ last.keys())}")
    for student in latest.keys() & last.keys():
        snapshot, change = latest[student], last[student]
        said = (snapshot["sequence"], snapshot["last_change"], snapshot["state"])
        if said != (change["sequence"], change["change"], change["state"]):
            problems.append(f"{student}: snapshot {snapshot} is not the last change {change}")
    return problems


async def test_r52_what_subscribers_receive_in_a_realistic_flow_is_what_the_asyncapi_documents_promise(
    start_app, isolation, token, wait_for, national_tier, mirror, tmp_path
):
    documents = _documents()
    topics = _channels(documents)
    validators = {
        (service, ref): _validator(documents[service], ref)
        for sides in topics.values()
        for side in sides.values()
        for service, ref in side
    }
    await _flow(start_app, isolation, token, wait_for, national_tier, mirror, tmp_path)

    problems: list[str] = []
    read: dict[str, list[Any]] = {}
    for topic, sides in sorted(topics.items()):
        read[topic] = await _records(isolation.servers.kafka, isolation.topic(topic))
        # Hunan's transfer and the national tier's dedupe publish on their own topics (their clusters, here prefixes).
        for other in ("hn.", "hub."):
            read[other + topic] = await _records(isolation.servers.kafka, isolation.topic(other + topic))
        for record in read[topic] + read[f"hn.{topic}"] + read[f"hub.{topic}"]:
            problems += _problems_of(topic, record, sides, validators, documents)
    assert read["hn.transfer.case.v1"] and read["hub.dedupe.national.verdict.v1"]
    # A message a service could not read is a contract failure too: nothing lands on a dead-letter topic.
    for topic in sorted({t.name for t in ALL_TOPICS} - {"notify.webhook.dlq"}):
        letters = await _records(isolation.servers.kafka, isolation.topic(dlq(topic)))
        problems += [f"{dlq(topic)}: {json.loads(r.value).get('reason', '')[:300]}" for r in letters]
    problems += _public_feed_problems(read["student.status.v1"], read["student.status.snapshot.v1"])

    seen = {topic for topic in topics if read[topic]}
    assert set(NOT_EXERCISED) <= set(topics), "NOT_EXERCISED names a topic no document describes"
    assert not set(NOT_EXERCISED) & seen, f"listed as not exercised, but the flow did: {set(NOT_EXERCISED) & seen}"
    unseen = sorted(set(topics) - seen - set(NOT_EXERCISED))
    assert not unseen, f"documented topics the flow put no message on (exercise them or list them): {unseen}"
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:80])
    changes = {json.loads(r.value)["payload"]["change"] for r in read["student.status.v1"]}
    assert {"enrolled", "recorded_for_review", "refused_as_duplicate", "transferred_in", "suspended",
            "graduated", "number_changed", "transferred_out"} <= changes, changes  # fmt: skip
