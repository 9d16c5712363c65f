"""Drive a running transfer service over HTTP on a clock the test sets, and read what it published."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from xueji_contracts.calendar import local_date
from xueji_contracts.envelope import envelop
from xueji_transfer.app import create_app
from xueji_transfer.domain.record import StudentRecord, school_year_of
from xueji_transfer.settings import TransferSettings

CST = ZoneInfo("Asia/Shanghai")
RECEIVING, SENDING = "3506020001", "3501020003"  # receiving county 350602 (Zhangzhou), sending 350102 (Fuzhou)
STAGES = ("receiving_school", "receiving_bureau", "sending_school", "sending_bureau")
# Fujian's checklist (R30, 002 III.5) for a household register that did not move, and the certificate image.
MATERIALS = ("registration_form", "status_basic_info", "household_register", "reason_proof", "certificate_image")


def evidence(kind: str) -> dict[str, str]:
    return {"kind": kind, "uri": f"s3://materials/{kind}", "sha256": hashlib.sha256(kind.encode()).hexdigest()}


def application(sending: str = SENDING, receiving: str = RECEIVING, **overrides: Any) -> dict[str, Any]:
    return {
        "student_id": "stu_demo_1",
        "status": "enrolled",
        "sending": {"code": sending},
        "receiving": {"code": receiving},
        "grade": 4,
        "target_grade": 4,
        "term": {"start": "2025-02-17", "end": "2025-07-04", "semester": 2},
        "reason": "household_move",
        "materials": [evidence(kind) for kind in MATERIALS],
        **overrides,
    }


class Clock:
    """The service's clock, set by the test: cases open and decisions happen at `now`."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Driver:
    def __init__(self, client: Any, token: Any, clock: Clock) -> None:
        self.client, self.token, self.clock = client, token, clock
        self.app = client.app

    def party(self, stage: str, sending: str = SENDING, receiving: str = RECEIVING) -> tuple[str, str]:
        school = receiving if stage.startswith("receiving") else sending
        return ("school", school) if stage.endswith("school") else ("county", school[:6])

    async def call(self, method: str, path: str, who: tuple[str, str], body: Any = None, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token(*who)}", **kw.pop("headers", {})}
        return await self.client.request(method, path, json=body, headers=headers, **kw)

    async def ok(self, method: str, path: str, who: tuple[str, str], body: Any = None, **kw: Any) -> dict[str, Any]:
        answer = await self.call(method, path, who, body, **kw)
        assert answer.status_code in (200, 201, 202), answer.text
        return dict(answer.json())

    async def known(
        self, student_id: str = "stu_demo_1", school: str = SENDING, grade: int = 4, state: str = "enrolled"
    ) -> None:
        """The registry's record of a student, as its student.status.v1 message would leave it in transfer's
        projection (R28). Tests of the projection itself go through the broker from a real registry."""
        record = StudentRecord(
            student_id=student_id, school_code=school, county_code=school[:6], state=state, grade=grade,
            school_year=school_year_of(local_date(self.clock.now)),
        )  # fmt: skip
        message = envelop(record, producer="registry", province=school[:2], occurred_at=self.clock.now)
        await self.app.state.records.follow(message)

    async def apply(self, app: dict[str, Any] | None = None, *, record: bool = True, **kw: Any) -> str:
        """Step 1; by default the registry's record agrees with what the application declares."""
        body = {"application": app or application(), **kw}
        declared = body["application"]
        if record and declared.get("student_id") and declared["sending"]["code"][:2] == RECEIVING[:2]:
            status = declared.get("status") or "enrolled"
            await self.known(declared["student_id"], declared["sending"]["code"], declared["grade"], status)
        receiving = body["application"]["receiving"]["code"]
        case = await self.ok("POST", "/v1/transfers", ("school", receiving), body)
        return str(case["transfer_id"])

    async def examine(self, tid: str, receiving: str = RECEIVING) -> None:
        body = {"conditions_met": True, "vacancy": True}
        await self.ok("POST", f"/v1/transfers/{tid}/examination", ("school", receiving), body)

    async def decide(self, tid: str, stage: str, decision: str = "approve", **kw: Any) -> Any:
        who = kw.pop("who", None) or self.party(stage)
        body = {"decision": decision, **kw}
        return await self.call("POST", f"/v1/transfers/{tid}/stages/{stage}/decision", who, body)

    async def approve(self, tid: str, *stages: str) -> None:
        for stage in stages:
            answer = await self.decide(tid, stage)
            assert answer.status_code == 200, answer.text

    async def complete(self, tid: str, receiving: str = RECEIVING) -> dict[str, Any]:
        """Steps 2-8 for a case just applied for: every party approves in turn, the student reports."""
        await self.examine(tid, receiving)
        await self.approve(tid, *STAGES)
        await self.ok("POST", f"/v1/transfers/{tid}/notify-to-report", ("school", receiving))
        report = {"electronic_file": evidence("electronic_file")}
        return await self.ok("POST", f"/v1/transfers/{tid}/report", ("school", receiving), report)

    async def detail(self, tid: str, who: tuple[str, str] = ("province", "350000")) -> dict[str, Any]:
        return await self.ok("GET", f"/v1/transfers/{tid}", who)

    async def inbox(self, code: str) -> list[dict[str, Any]]:
        who = ("school", code) if len(code) == 10 else (_role(code), code)
        return list((await self.ok("GET", "/v1/inbox", who))["items"])

    async def advance_to(self, at: datetime) -> int:
        """Move the clock to `at`, ticking the scheduler at every armed timer's due time on the way."""
        fired = 0
        while True:
            armed = await self.app.state.timers.store.armed()
            due = sorted(doc["due_at"] for doc in armed if doc["due_at"] <= at)
            if not due:
                break
            self.clock.now = due[0] + timedelta(seconds=1)
            fired += await self.app.state.timers.tick(self.clock.now)
        self.clock.now = at
        return fired + await self.app.state.timers.tick(at)


def _role(code: str) -> str:
    if code.endswith("0000"):
        return "province"
    return "city" if code.endswith("00") else "county"


async def start(start_app: Any, token: Any, at: datetime, **settings: Any) -> Driver:
    overrides = {"scheduler_enabled": False, "scheduler_lookback_minutes": 10, **settings}
    client = await start_app(create_app, TransferSettings, **overrides)
    clock = Clock(at)
    client.app.state.transfer.clock = clock
    return Driver(client, token, clock)


def of_type(messages: list[dict[str, Any]], name: str, transfer_id: str | None = None) -> list[dict[str, Any]]:
    return [
        m["payload"]
        for m in messages
        if m["type"] == name and (transfer_id is None or m["payload"]["transfer_id"] == transfer_id)
    ]


def day(d: date, hour: int = 9) -> datetime:
    return datetime(d.year, d.month, d.day, hour, tzinfo=CST)
