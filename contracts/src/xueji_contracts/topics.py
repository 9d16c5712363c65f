"""Every Kafka topic of the system: its name, partitions, retention and who may read it.

Topic names live here and nowhere else; services and deployment files derive theirs from this list.
"""

from __future__ import annotations

from dataclasses import dataclass

DAY_MS = 24 * 3600 * 1000
FOREVER = -1


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    description: str
    key: str
    partitions: int = 6
    retention_ms: int = 30 * DAY_MS
    public: bool = False
    compacted: bool = False


def dlq(name: str) -> str:
    """The dead-letter topic of a consumed topic."""
    return f"{name}.dlq"


def prefixed(name: str, prefix: str) -> str:
    """A topic name under an isolation prefix (tests, shared clusters); empty prefix is the name."""
    return f"{prefix}{name}"


STUDENT_STATUS = TopicSpec(
    "student.status.v1",
    "Public student status events for other provincial systems: opaque id, masked numbers, no raw ID (R52).",
    key="student_id",
    retention_ms=FOREVER,
    public=True,
)
STUDENT_STATUS_SNAPSHOT = TopicSpec(
    "student.status.snapshot.v1",
    "Public: each student's latest status (the last change on student.status.v1 and its sequence), compacted and"
    " keyed by the opaque student id, so a new subscriber catches up without the feed's history (R52).",
    key="student_id",
    retention_ms=FOREVER,
    public=True,
    compacted=True,
)
REGISTRY_ENROLLMENT = TopicSpec(
    "registry.enrollment.v1",
    "R07 supplementary number requests (SupplementaryRequested), one per record enrolled without one; keyed by"
    " school so one consumer numbers a school's requests in order, without gaps.",
    key="school_code",
)
REGISTRY_IDENTITY = TopicSpec(
    "registry.identity.v1",
    "Identity feed of the dedupe index (name, raw ID number, birth date, gender, region): PERSONAL DATA that"
    " stays inside the province deployment (R52). Kept forever: the index is rebuilt by replaying it.",
    key="student_id",
    retention_ms=FOREVER,
)
REGISTRY_COMPLIANCE = TopicSpec(
    "registry.compliance.v1",
    "Compliance deadlines of the registry (R02 status file, R44 death cancellation, ...): opened, due soon,"
    " overdue (flagged to the bureau above) or met; notify turns them into tasks. No personal data.",
    key="deadline_id",
)
DEDUPE_CHECK = TopicSpec(
    "dedupe.check.v1",
    "Duplicate-check requests from the registry, answered on dedupe.verdict.v1 by correlation id.",
    key="correlation_id",
)
DEDUPE_VERDICT = TopicSpec(
    "dedupe.verdict.v1",
    "Duplicate-check answers: duplicate, possible_duplicate or unique, with score and features.",
    key="correlation_id",
)
DEDUPE_REVIEW = TopicSpec(
    "dedupe.review.v1",
    "County review cases for possible duplicates and their decisions.",
    key="case_id",
)
TRANSFER_CASE = TopicSpec(
    "transfer.case.v1",
    "Transfer case lifecycle: opened, stage opened, decided, offline path, completed, rolled back.",
    key="transfer_id",
    retention_ms=FOREVER,
)
TRANSFER_STAGE = TopicSpec(
    "transfer.stage.v1",
    "One message per approval stage addressed to the responsible jurisdiction, with deadline and warning.",
    key="transfer_id",
)
TRANSFER_DECISION = TopicSpec(
    "transfer.decision.v1",
    "Stage decisions (approve, reject, return for materials) from the HTTP API or other systems.",
    key="transfer_id",
)
TRANSFER_SLA = TopicSpec(
    "transfer.sla.v1",
    "SLA timer events: warning, breach, escalation, offline timeout, paper-file deadline.",
    key="transfer_id",
)
INTERPROVINCE_TRANSFER = TopicSpec(
    "interprovince.transfer.v1",
    "Transfers crossing provinces; mirrored between provincial clusters and the national hub.",
    key="transfer_id",
    retention_ms=FOREVER,
)
INTERPROVINCE_FILE = TopicSpec(
    "interprovince.file.v1",
    "A student's electronic status file sent to the receiving province when an inter-provincial transfer"
    " completes (step 7): PERSONAL DATA, through the national hub to the receiving province only.",
    key="student_id",
    retention_ms=FOREVER,
)
NATIONAL_IDENTITY = TopicSpec(
    "dedupe.national.identity.v1",
    "A province's identity feed forwarded by its dedupe to the national tier: PERSONAL DATA, carried only to the"
    " national hub, never to another province (R52). Kept forever: the national index is rebuilt from it.",
    key="student_id",
    retention_ms=FOREVER,
)
NATIONAL_CHECK = TopicSpec(
    "dedupe.national.check.v1",
    "Cross-province checks from a province's dedupe to the national tier: G-number issuance (R03) and key-info"
    " changes (R10); PERSONAL DATA, province to national hub only. Answered on dedupe.national.verdict.v1.",
    key="correlation_id",
)
NATIONAL_VERDICT = TopicSpec(
    "dedupe.national.verdict.v1",
    "The national tier's answers (duplicate check and population-register comparison) by correlation id.",
    key="correlation_id",
)
RULE_EXCEPTION = TopicSpec(
    "rules.exception.v1",
    "Exceptions to 'generally' rules (R08, R27, R40) recorded by the named authority: rule, clause, authority,"
    " operator, written reason, evidence; listed in the semester audit (R51) and on the dashboard. No personal data.",
    key="subject_id",
    retention_ms=FOREVER,
)
CALENDAR_NOTICE = TopicSpec(
    "calendar.notice.v1",
    "Holiday notices loaded at run time (R31), one message per year's notice, keyed by the year and compacted, so a"
    " consumer starting afresh reads the latest notice of every year. No personal data.",
    key="year",
    partitions=1,
    retention_ms=FOREVER,
    compacted=True,
)
NOTIFY_WEBHOOK_DLQ = TopicSpec(
    "notify.webhook.dlq",
    "Webhook deliveries that failed after the last retry.",
    key="delivery_id",
)

ALL_TOPICS: tuple[TopicSpec, ...] = (
    STUDENT_STATUS,
    STUDENT_STATUS_SNAPSHOT,
    REGISTRY_ENROLLMENT,
    REGISTRY_IDENTITY,
    REGISTRY_COMPLIANCE,
    DEDUPE_CHECK,
    DEDUPE_VERDICT,
    DEDUPE_REVIEW,
    TRANSFER_CASE,
    TRANSFER_STAGE,
    TRANSFER_DECISION,
    TRANSFER_SLA,
    INTERPROVINCE_TRANSFER,
    INTERPROVINCE_FILE,
    NATIONAL_IDENTITY,
    NATIONAL_CHECK,
    NATIONAL_VERDICT,
    RULE_EXCEPTION,
    CALENDAR_NOTICE,
    NOTIFY_WEBHOOK_DLQ,
)


def public_topic_names() -> list[str]:
    """The topics other provincial systems may read, with the bureau's written consent (R52)."""
    return [t.name for t in ALL_TOPICS if t.public]


def all_topic_names(*, with_dlq: bool = True) -> list[str]:
    """Every topic to create: each contract topic and, for consumed ones, its dead-letter topic."""
    names = [t.name for t in ALL_TOPICS]
    if with_dlq:
        names += [dlq(t.name) for t in ALL_TOPICS if not t.name.endswith(".dlq")]
    return names
