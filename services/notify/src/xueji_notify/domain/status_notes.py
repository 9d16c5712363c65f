"""student.status.v1 -> the school's notification, titled for what happened (zh and en) rather than for the state."""

from __future__ import annotations

from xueji_contracts.envelope import Envelope
from xueji_contracts.messages.status import StatusChangeKind as K
from xueji_contracts.messages.status import StudentStatusRecorded
from xueji_notify.domain.names import NO_NAMES, SchoolNames, named
from xueji_notify.domain.notification import Kind, Notification, Severity, about

CHANGE_TITLES: dict[K, tuple[str, str]] = {
    K.ENROLLED: ("学籍已建立", "Status record created"),
    K.RECORDED_FOR_REVIEW: ("学籍待县级审核（疑似重复）", "Status record awaits county review (possible duplicate)"),
    K.REFUSED_AS_DUPLICATE: ("学籍因重复未予建立", "Status record refused as a duplicate"),
    K.TRANSFERRED_IN: ("学生转入", "Student transferred in"),
    K.TRANSFERRED_OUT: ("学生转出（跨省）", "Student transferred out of the province"),
    K.SUSPENDED: ("学生休学", "Student suspended"),
    K.SUSPENSION_EXTENDED: ("休学延期", "Suspension extended"),
    K.RESUMED: ("学生复学", "Student resumed"),
    K.ABROAD: ("学生出国", "Student gone abroad"),
    K.RETURNED_FROM_ABROAD: ("学生出国返回", "Student returned from abroad"),
    K.DROPPED_OUT: ("学生辍学", "Student dropped out"),
    K.GRADUATED: ("学生毕业", "Student graduated"),
    K.COMPLETED: ("学生结业", "Student completed (certificate of completion)"),
    K.LEFT: ("学生肄业", "Student left (leaving certificate)"),
    K.DECEASED: ("学生死亡，学籍注销", "Student deceased, status cancelled"),
    K.DELETED: ("学籍已删除（教育部批准）", "Status record deleted (Ministry approval)"),
    K.KEY_INFORMATION_CORRECTED: ("关键信息已更正", "Key information corrected"),
    K.NUMBER_CHANGED: ("学籍号已变更", "Status number changed"),
    K.ARRIVAL_RECONCILED: ("电子档案已到达并核对", "Electronic file arrived and reconciled"),
}


def status_recorded(message: Envelope[StudentStatusRecorded], names: SchoolNames = NO_NAMES) -> list[Notification]:
    """The school the student is at hears what happened; on a move, the school left hears it too. A message of the
    1.0 contract names no change: its title says only that a record was created, as it always did."""
    p = message.payload
    zh, en = CHANGE_TITLES[p.change or K.ENROLLED]
    title = (f"{zh}：{p.status_number_masked}（{p.grade}年级）", f"{en}: {p.status_number_masked} (grade {p.grade})")
    if p.planned_end is not None:
        title = (f"{title[0]}，至{p.planned_end.isoformat()}", f"{title[1]}, until {p.planned_end.isoformat()}")
    details = {"state": p.state.value, "school_year": p.school_year, "county_code": p.county_code,
               "change": p.change.value if p.change else None, "sequence": p.sequence,
               "effective_on": p.effective_on.isoformat() if p.effective_on else None}  # fmt: skip
    notes = [about(message, Kind.STATUS_RECORDED, Severity.INFO, p.school_code, title, p.student_id, details=details)]
    if p.before and p.before.school_code != p.school_code:
        # The school left hears what it is for that school: its student moved away, and where to (by name).
        to = named(p.school_code, names)
        left = (f"学生转出（省内）：{p.before.status_number_masked}（{p.before.grade}年级），转入 {to[0]}",
                f"Student moved to another school of the province: {p.before.status_number_masked} "
                f"(grade {p.before.grade}), now at {to[1]}")  # fmt: skip
        notes.append(about(message, Kind.STATUS_RECORDED, Severity.INFO, p.before.school_code, left, p.student_id,
                           details=details | {"moved_to": p.school_code}))  # fmt: skip
    return notes
