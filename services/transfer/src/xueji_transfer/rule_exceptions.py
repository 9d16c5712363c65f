"""R27 exceptions as their own streams: recorded once by the receiving county bureau, published on
rules.exception.v1 for the semester audit (R51) and the dashboard, and read back when an application names one."""

from __future__ import annotations

from datetime import datetime

from xueji_contracts.auth import Role
from xueji_contracts.envelope import derive_id, envelop
from xueji_contracts.messages.exceptions import RuleExceptionRecorded
from xueji_contracts.topics import RULE_EXCEPTION
from xueji_kit.aggregates import Decision, decide_and_save
from xueji_kit.outbox_entries import Outgoing
from xueji_kit.runtime import ServiceRuntime
from xueji_transfer.domain import RecordTimingException, TimingException, TransferError
from xueji_transfer.domain.exceptions import record
from xueji_transfer.service import CaseRefused


def published(exception: TimingException) -> RuleExceptionRecorded:
    """The shape every producer of exceptions shares; evidence by reference, never the document."""
    return RuleExceptionRecorded(
        exception_id=exception.exception_id, rule=exception.rule, clause=exception.clause.value,
        authority=Role.COUNTY, jurisdiction=exception.jurisdiction, operator=exception.recorded_by.sub,
        reason=exception.reason, evidence=tuple(e.uri for e in exception.evidence), occurred_at=exception.at,
        subject_kind="student", subject_id=exception.student_id, school_code=exception.receiving_school,
    )  # fmt: skip


class RuleExceptions:
    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime
        self.events = runtime.events
        self.province = runtime.settings.province

    async def record(self, command: RecordTimingException, commit_id: str, now: datetime) -> TimingException:
        """Store the exception once (a retried request is the same commit); raises CaseRefused naming R27."""
        try:
            exception = record(command, now)
        except TransferError as error:
            raise CaseRefused(error, None) from error
        message = envelop(
            published(exception), producer="transfer", province=self.province, occurred_at=now,
            message_id=derive_id(commit_id, "exception"),
        )  # fmt: skip
        outgoing = [Outgoing(RULE_EXCEPTION.name, exception.student_id, message)]
        document = exception.model_dump(mode="json")
        await decide_and_save(self.events, exception.exception_id, commit_id, lambda _: Decision([document], outgoing))
        self.runtime.relay.nudge()
        stored = await self.load(exception.exception_id)
        assert stored is not None
        return stored

    async def load(self, exception_id: str) -> TimingException | None:
        first = await self.events.first(exception_id)
        if first is None or first["events"][0].get("type") != "rule_exception_recorded":
            return None
        return TimingException.model_validate(first["events"][0])
