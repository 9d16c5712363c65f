"""The demo province loaded by `make run`: a few Fujian schools, their students and some transfer cases.

Everything goes through the services' HTTP APIs with operator tokens, exactly as a school would
do it, so the demo exercises the real path (registry / transfer -> Kafka -> notify). Loaded once per
data dir. Transfer cases stand at different steps; some were received by the school days ago (the
application's `applied_at`), so the SLA dashboard shows fresh, warned and breached stages at once.
"""

from __future__ import annotations

import json
import os
import time as time_module
import urllib.error
import urllib.request
from datetime import date, datetime, time, timedelta
from pathlib import Path

import keys

from xueji_dedupe.synthetic.province import Children, schools
from xueji_dedupe.synthetic.province import students as students_of
from xueji_dedupe.synthetic.regions import FUJIAN_COUNTIES

# Four counties of Fujian, a primary and a junior middle school in each (the synthetic province generator).
DEMO_COUNTIES = ("350102", "350203", "350602", "350603")
PROVINCE = schools({c: FUJIAN_COUNTIES[c] for c in DEMO_COUNTIES}, per_county=2)
SCHOOLS = {school.code: school.name for school in PROVINCE}
PER_SCHOOL = 8
# sending school, receiving school, working days since the receiving school got the application, how far it got
TRANSFERS = (
    ("3501020001", "3506020001", 0, "applied"),  # fresh
    ("3502030001", "3506030001", 1, "at_receiving_bureau"),
    ("3501020001", "3506030001", 7, "applied"),  # warned tomorrow
    ("3502030001", "3506020001", 9, "applied"),  # warned: 2 working days left
    ("3501020001", "3506020001", 12, "applied"),  # breached: escalated to the county bureau
    ("3506030001", "3501020001", 3, "at_sending_school"),
    ("3506020001", "3502030001", 2, "offline"),  # declared failure: the bureau's paper consent is awaited
)
FRESHMAN_SCHOOL = "3501020001"
CHILDREN = Children(seed=35)  # one draw for pupils and freshmen: every child a distinct person


def write_school_directory(path: Path) -> Path:
    """The demo province's school directory (code, name), which the registry publishes at /v1/schools."""
    import csv

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["学校代码", "学校名称"])
        writer.writerows(sorted(SCHOOLS.items()))
    return path


def students() -> list[dict[str, object]]:
    """Every demo school's pupils across its grades: realistic names, valid and distinct ID numbers (R06)."""
    return list(students_of(PROVINCE, PER_SCHOOL, children=CHILDREN))


def freshman_class(size: int = 30) -> list[list[str]]:
    """A first-grade class as the school's clerk keeps it (Chinese headers), with one mistyped ID number."""
    school = next(s for s in PROVINCE if s.code == FRESHMAN_SCHOOL)
    rows = [["姓名", "性别", "出生日期", "身份证件号", "年级", "民族"]]
    for n, child in enumerate(students_of([school], size, grades=range(1, 2), children=CHILDREN)):
        id_number = str(child["id_number"])
        if n == size // 2:
            id_number = id_number[:-1] + ("0" if id_number[-1] != "0" else "1")  # a typo the upload reports
        born = date.fromisoformat(str(child["birth_date"]))
        gender = "女" if child["gender"] == "female" else "男"
        rows.append([str(child["name"]), gender, f"{born:%Y/%m/%d}", id_number, "一年级", "汉族"])
    return rows


def upload_class(registry_url: str, school: str, rows: list[list[str]]) -> int:
    """The school uploads its class as a spreadsheet (POST /v1/students/bulk); returns how many were requested."""
    import csv
    import io

    import httpx

    out = io.StringIO()
    csv.writer(out).writerows(rows)
    answer = httpx.post(
        f"{registry_url}/v1/students/bulk",
        files={"file": ("一年级新生.csv", out.getvalue().encode("utf-8-sig"), "text/csv")},
        data={"school_code": school, "school_year": "2026"},
        headers={"Authorization": f"Bearer {keys.token('school', school, sub='demo-clerk')}"},
        timeout=120,
    )
    if answer.status_code != 200:
        print(f"demo: class upload refused: {answer.status_code} {answer.text[:300]}")
        return 0
    result = answer.json()
    problems = "; ".join(f"row {e['row']} {e['column'] or e['field']}: {e['reason']}" for e in result["errors"])
    print(f"demo province: {SCHOOLS[school]} uploaded {result['rows']} freshmen, {result['requested']} enrolled"
          + (f"; refused {problems}" if problems else ""), flush=True)  # fmt: skip
    return int(result["requested"])


def _post(
    url: str, body: object, role: str, code: str, key: str | None = None, *, attempts: int = 1
) -> dict[str, object] | None:
    """POST as the demo clerk; a refusal is printed. With `attempts`, an application refused because transfer has
    not yet heard of the pupil from the registry (R28, a moment after enrollment) is tried again a second later."""
    headers = {
        "Authorization": f"Bearer {keys.token(role, code, sub='demo-clerk')}",
        "Content-Type": "application/json",
    }
    if key:
        headers["Idempotency-Key"] = key
    for attempt in range(attempts):
        request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - loopback URL of our own service
                return dict(json.loads(answer.read() or b"{}"))
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300]
            if exc.code == 422 and b"not trusted" in detail and attempt + 1 < attempts:
                time_module.sleep(1)
                continue
            print(f"demo: {url.rsplit('/v1/', 1)[-1]} refused: {exc.code} {detail!r}")
            return None
    return None


def load(registry_url: str, marker: Path) -> int:
    """Enroll the demo students once, then open the demo transfer cases; returns how many were enrolled now."""
    if marker.exists():
        return 0
    enrolled: dict[str, list[tuple[str, int]]] = {}
    for student in students():
        school = str(student["school_code"])
        answer = _post(f"{registry_url}/v1/students", student, "school", school)
        if answer is not None:
            enrolled.setdefault(school, []).append((str(answer["student_id"]), int(str(student["grade"]))))
    freshmen = upload_class(registry_url, FRESHMAN_SCHOOL, freshman_class())
    opened = open_transfers(_transfer_url(registry_url), enrolled)
    count = sum(len(v) for v in enrolled.values()) + freshmen
    marker.write_text(f"{count} students, {opened} transfer cases\n")
    print(f"demo province: {opened} transfer cases open", flush=True)
    return count


def _transfer_url(registry_url: str) -> str:
    from stack import DEFAULT_HTTP_PORTS

    host = registry_url.rsplit(":", 1)[0]
    return f"{host}:{os.environ.get('XUEJI_TRANSFER_PORT', DEFAULT_HTTP_PORTS['transfer'])}"


def open_transfers(url: str, enrolled: dict[str, list[tuple[str, int]]]) -> int:
    """Open each demo case through the transfer API and take it as far as TRANSFERS says."""
    from xueji_contracts.calendar import SHANGHAI, national_calendar

    today = datetime.now(SHANGHAI).date()
    semester = 1 if today.month >= 8 or today.month == 1 else 2
    term = {"start": (today - timedelta(days=20)).isoformat(), "end": (today + timedelta(days=100)).isoformat()}
    opened = 0
    for n, (sending, receiving, days, reached) in enumerate(TRANSFERS):
        pupils = [s for s in enrolled.get(sending, []) if 2 <= s[1] <= 5]  # not first or graduation grade (R27)
        if not pupils:
            continue
        student_id, grade = pupils[n % len(pupils)]
        received = datetime.combine(national_calendar().add_working_days(today, -days), time(9), SHANGHAI)
        application = {
            "student_id": student_id, "status": "enrolled", "sending": {"code": sending},
            "receiving": {"code": receiving}, "grade": grade, "target_grade": grade,
            "term": {**term, "semester": semester}, "reason": "household_move",
            "materials": [_evidence(k) for k in MATERIALS],
        }  # fmt: skip
        body = {"application": application, "applied_at": received.isoformat() if days else None}
        case = _post(f"{url}/v1/transfers", body, "school", receiving, key=f"demo-{n}", attempts=30)
        if case is None:
            continue
        opened += 1
        _advance(f"{url}/v1/transfers/{case['transfer_id']}", sending, receiving, reached)
    return opened


def _advance(case_url: str, sending: str, receiving: str, reached: str) -> None:
    if reached == "offline":
        failure = {"description": "demo: provincial platform unreachable", "guardian_requested": True}
        _post(f"{case_url}/offline/system-failure", failure, "school", receiving)
    if reached not in ("at_receiving_bureau", "at_sending_school"):
        return
    _post(f"{case_url}/examination", {"conditions_met": True, "vacancy": True}, "school", receiving)
    _post(f"{case_url}/stages/receiving_school/decision", {"decision": "approve"}, "school", receiving)
    if reached == "at_sending_school":
        _post(f"{case_url}/stages/receiving_bureau/decision", {"decision": "approve"}, "county", receiving[:6])


# Fujian's checklist (R30, 002 III.5) for a household register that did not move, and the certificate image.
MATERIALS = ("registration_form", "status_basic_info", "household_register", "reason_proof", "certificate_image")


def _evidence(kind: str) -> dict[str, str]:
    import hashlib

    return {"kind": kind, "uri": f"demo://materials/{kind}", "sha256": hashlib.sha256(kind.encode()).hexdigest()}
