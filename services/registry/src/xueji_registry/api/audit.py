"""R51: the semester audit per jurisdiction, as JSON and as a spreadsheet a bureau can file.

The audit reads every record of the province once (a semester batch, not a request path: it replays each
record's commits) and keeps those inside the operator's jurisdiction; ID numbers appear masked only (R52).
"""

from __future__ import annotations

import io
from collections import Counter
from datetime import UTC, date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request, Response
from openpyxl import Workbook
from openpyxl.styles import Font

from xueji_contracts.auth import Role
from xueji_kit.security import Operator, require_jurisdiction
from xueji_registry.api.common import service_of
from xueji_registry.api.subscribers import status_subscribers
from xueji_registry.domain import StudentStatus, public_view
from xueji_registry.domain.audit import LABELS, Problem, findings
from xueji_registry.exports import safe_row
from xueji_registry.feeds.recipients import feed_recipients
from xueji_registry.rule_exceptions import audit_row, exceptions_under

router = APIRouter(prefix="/v1", tags=["audit"])
CST = ZoneInfo("Asia/Shanghai")
Jurisdiction = Annotated[str | None, Query(pattern=r"^\d{6}(\d{4})?$", description="default: the operator's own")]
COLUMNS = (
    ("学校代码", "school_code"),
    ("学生标识", "student_id"),
    ("学籍号（脱敏）", "status_number_masked"),
    ("学籍状态", "state"),
    ("问题", "problem_zh"),
    ("problem", "problem"),
    ("规则", "rule"),
    ("说明", "detail"),
    ("期限", "due"),
)

EXCEPTION_COLUMNS = (
    ("规则", "rule"),
    ("例外事项", "clause"),
    ("批准机关", "authority"),
    ("机关代码", "jurisdiction"),
    ("经办人", "operator"),
    ("书面理由", "reason"),
    ("证明材料", "evidence"),
    ("时间", "occurred_at"),
    ("对象", "subject_kind"),
    ("对象标识", "subject_id"),
    ("学校代码", "school_code"),
)


def _rows(records: list[StudentStatus], today: date) -> list[dict[str, Any]]:
    rows = []
    for state in sorted(records, key=lambda s: (s.school_code, s.student_id)):
        view = public_view(state)
        for finding in findings(state, today):
            rows.append(
                {
                    "school_code": state.school_code,
                    "student_id": state.student_id,
                    "status_number_masked": view.status_number_masked,
                    "state": state.state.value,
                    "problem": finding.problem.value,
                    "problem_zh": LABELS[finding.problem][0],
                    "rule": finding.rule,
                    "detail": finding.detail,
                    "due": finding.due.isoformat() if finding.due else None,
                }
            )
    return rows


async def _audit(request: Request, operator: Operator, jurisdiction: str | None) -> dict[str, Any]:
    code = jurisdiction or operator.code
    require_jurisdiction(operator, code, at_least=Role.SCHOOL)
    now = datetime.now(UTC)
    service = service_of(request)
    records = await service.records_under(code)
    rows = _rows(records, now.astimezone(CST).date())
    counts = {p.value: sum(1 for r in rows if r["problem"] == p.value) for p in Problem}
    # RULES "Exceptions": every exception to a "generally" rule (R08, R27, R40, ...) recorded in the jurisdiction.
    exceptions = [audit_row(doc) for doc in await exceptions_under(service.runtime, code)]
    return {
        "jurisdiction": code,
        "generated_at": now.isoformat(),
        "generated_by": operator.sub,
        "records_audited": len(records),
        "records_with_problems": len({r["student_id"] for r in rows}),
        "counts": counts,
        "problems": rows,
        "exceptions": exceptions,
        "exceptions_by_rule": dict(sorted(Counter(e["rule"] for e in exceptions).items())),
        # R52: every time a full ID number of a record here was shown, by whom and when.
        "identity_views": await service.identity_views.under(code),
        # R52: the systems that receive the public status feed, their consent, and what the brokers saw them read.
        "status_feed_recipients": await feed_recipients(service.runtime, status_subscribers(request)),
    }


@router.get(
    "/audit",
    summary="R51: problem records in the jurisdiction (invalid IDs, duplicates, files, deadlines) and every exception",
)
async def audit(request: Request, operator: Operator, jurisdiction: Jurisdiction = None) -> dict[str, Any]:
    return await _audit(request, operator, jurisdiction)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get(
    "/audit.xlsx",
    summary="R51: the same audit as a spreadsheet (ID numbers masked)",
    response_class=Response,
    responses={
        200: {
            "description": "the audit workbook",
            "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def audit_spreadsheet(request: Request, operator: Operator, jurisdiction: Jurisdiction = None) -> Response:
    report = await _audit(request, operator, jurisdiction)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "学籍数据核查"
    sheet.append(safe_row([zh for zh, _ in COLUMNS]))
    sheet.append(safe_row([key for _, key in COLUMNS]))
    for cell in (*sheet[1], *sheet[2]):
        cell.font = Font(bold=True)
    for row in report["problems"]:
        sheet.append(safe_row([row[key] for _, key in COLUMNS]))
    sheet.freeze_panes = "A3"
    listed = book.create_sheet("例外 exceptions")
    listed.append(safe_row([zh for zh, _ in EXCEPTION_COLUMNS]))
    listed.append(safe_row([key for _, key in EXCEPTION_COLUMNS]))
    for exception in report["exceptions"]:
        listed.append(
            safe_row([", ".join(v) if isinstance(v := exception[key], list) else v for _, key in EXCEPTION_COLUMNS])
        )
    recipients = book.create_sheet("状态订阅 feed recipients")
    recipients.append(["系统 system", "名称 title", "同意书文号 consent", "同意机关 granted by", "已接收 received"])
    for r in report["status_feed_recipients"]:
        received = {True: "是 yes", False: "否 no", None: "未知 unknown"}[r["received_feed"]]
        recipients.append(safe_row([r["name"], r["title"], r["consent_reference"], r["granted_by"], received]))
    summary = book.create_sheet("汇总 summary")
    summary.append(safe_row(["辖区 jurisdiction", report["jurisdiction"]]))
    summary.append(safe_row(["生成时间 generated at", report["generated_at"]]))
    summary.append(safe_row(["生成人 generated by", report["generated_by"]]))
    summary.append(safe_row(["核查记录数 records audited", report["records_audited"]]))
    for problem, count in report["counts"].items():
        summary.append(safe_row([f"{LABELS[Problem(problem)][0]} {problem}", count]))
    for rule, count in report["exceptions_by_rule"].items():
        summary.append(safe_row([f"例外 exceptions {rule}", count]))
    viewed = book.create_sheet("身份证件号查看 identity views")
    viewed.append(
        ["查看时间 viewed at", "学生标识 student", "学校代码 school", "查看人 operator", "角色 role", "辖区 code"]
    )
    for view in report["identity_views"]:
        by = view["viewed_by"]
        viewed.append(
            safe_row([view["viewed_at"], view["student_id"], view["school_code"], by["sub"], by["role"], by["code"]])
        )
    buffer = io.BytesIO()
    book.save(buffer)
    name = f"audit-{report['jurisdiction']}-{report['generated_at'][:10]}.xlsx"
    return Response(
        buffer.getvalue(),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
