"""The registry's compliance deadlines on the dashboard (R02 status file, R44 death cancellation, ...): how many
are open, due soon or overdue under a jurisdiction node, and the overdue ones, longest overdue first."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from xueji_contracts.calendar.deadlines import local_date

OPEN_STATES = ("opened", "due_soon", "overdue")
NAMES = {
    "status_file": ("学籍档案建立", "status file"),
    "paper_file": ("纸质档案寄送", "paper file"),
    "death_cancellation": ("死亡注销", "death cancellation"),
    "annual_roster": ("年度名册", "annual roster"),
    "absence_report": ("辍学报告", "absence report"),
    "graduation_roster": ("毕业名册审核", "graduation roster review"),
    "file_handover": ("流动儿童档案移交", "migrant file hand-over"),
    "dedupe_review": ("疑似重复审核", "suspected duplicate review"),
}
# What a kind's deadline is about, as an operator reads it beside its id (most are a student's record).
SUBJECTS = {
    "annual_roster": ("名册", "roster"),
    "graduation_roster": ("名册", "roster"),
    "dedupe_review": ("审核案件", "review case"),
}
STUDENT = ("学生", "student")


def due_day(due: datetime) -> str:
    """The last China day on which a deadline can still be met: one due at 00:00 (the end of the day before, as
    deadlines are kept) is due on that day before, as the transfer table shows its stages' days."""
    return local_date(due - timedelta(microseconds=1)).isoformat()


def compliance_board(deadlines: Iterable[Mapping[str, Any]], now: datetime, limit: int = 50) -> dict[str, Any]:
    """Counts per kind and state of the deadlines not yet met, and the overdue ones (a deadline whose due time
    passed counts as overdue even before the registry's scheduler said so)."""
    counts: dict[str, dict[str, int]] = {}
    overdue = []
    for d in deadlines:
        state = str(d.get("state"))
        if state not in OPEN_STATES:
            continue
        due = d["due_at"]
        if state != "overdue" and due <= now:
            state = "overdue"
        kind = str(d.get("kind"))
        row = counts.setdefault(kind, {"open": 0, "due_soon": 0, "overdue": 0})
        row["open"] += 1
        if state in row:
            row[state] += 1
        if state == "overdue":
            overdue.append(
                {"deadline_id": d["_id"], "kind": kind, "rule": d.get("rule"), "jurisdiction": d.get("jurisdiction"),
                 "subject_id": d.get("subject_id"), "subject_zh": SUBJECTS.get(kind, STUDENT)[0],
                 "subject_en": SUBJECTS.get(kind, STUDENT)[1], "due_at": due, "due_day": due_day(due),
                 "flagged_to": d.get("flagged_to"), "overdue_days": max(0, (now - due).days)}
            )  # fmt: skip
    overdue.sort(key=lambda o: o["due_at"])
    total = {s: sum(row[s] for row in counts.values()) for s in ("open", "due_soon", "overdue")}
    kinds = [{"kind": k, "name_zh": NAMES.get(k, (k, k))[0], "name_en": NAMES.get(k, (k, k))[1], **v}
             for k, v in sorted(counts.items())]  # fmt: skip
    return {"total": total, "kinds": kinds, "overdue": overdue[:limit], "overdue_shown": min(len(overdue), limit)}
