"""Another province's case seen from here (R34): its stages for parties here, decided here, recorded there."""

# The stages another province's case addresses to parties here are mirrored in (their inboxes, the local stage and
# SLA topics for the dashboard); those parties decide them here, and each decision goes back to the owning province
# on interprovince.transfer.v1, which alone decides the case.

from __future__ import annotations

from datetime import datetime
from typing import Any

from xueji_contracts.auth import province_of
from xueji_contracts.envelope import Envelope, derive_id, envelop
from xueji_contracts.messages import transfer as c
from xueji_contracts.topics import INTERPROVINCE_TRANSFER, TRANSFER_CASE, TRANSFER_SLA, TRANSFER_STAGE, TopicSpec
from xueji_kit.aggregates import Decision, decide_and_save
from xueji_kit.outbox_entries import Outgoing
from xueji_kit.runtime import ServiceRuntime
from xueji_kit.store import Document
from xueji_transfer import decisions, inbox
from xueji_transfer.domain import DecideStage, OutsideJurisdiction, Refused, StageNotOpen
from xueji_transfer.domain.evidence import check_no_approval_form
from xueji_transfer.domain.grounds import check_grounds
from xueji_transfer.domain.jurisdiction import acts_as
from xueji_transfer.domain.record import check_sending_record
from xueji_transfer.domain.state import LEVEL
from xueji_transfer.inbox_filings import InboxFilings
from xueji_transfer.service import CaseRefused

PREFIX = "mirror:"
RemoteMessage = c.StageOpened | c.StageDeadlineChanged | c.StageClosed | c.StageWarning | c.StageBreached
ENDED = {c.CaseOutcome.COMPLETED, c.CaseOutcome.REJECTED, c.CaseOutcome.ROLLED_BACK}
OFFLINE_OPENED = c.CaseOutcome.OFFLINE_OPENED.value


def _local_topic(p: RemoteMessage | c.TransferCaseChanged) -> TopicSpec:
    if isinstance(p, c.TransferCaseChanged):
        return TRANSFER_CASE
    return TRANSFER_SLA if isinstance(p, c.StageWarning | c.StageBreached) else TRANSFER_STAGE


def forwarded_since_opened(history: list[Document], stage: str) -> Document | None:
    """The decision forwarded on `stage` since the owner last opened it, if any."""
    found: Document | None = None
    for e in history:
        if e.get("message_type") == "StageOpened" and e["payload"].get("stage") == stage:
            found = None
        elif e["type"] == "decision_forwarded" and e["payload"]["stage"] == stage:
            found = e
    return found


def stages_of(entries: list[Document]) -> dict[str, dict[str, Any]]:
    """The remote stages as the mirrored `entries` leave them: open or closed, deadline, escalation."""
    stages: dict[str, dict[str, Any]] = {}
    for e in entries:
        p, kind = e["payload"], e.get("message_type")
        if kind == "TransferCaseChanged":
            if p["outcome"] in ENDED:
                for stage in stages.values():
                    stage["open"] = False
            continue
        if kind is None or "stage" not in p:
            continue
        stage = stages.setdefault(p["stage"], {"stage": p["stage"], "owner": e["owner"], "round": 1})
        stage |= {"jurisdiction": p["jurisdiction"]}
        if kind == "StageOpened":
            stage |= {"open": True, "deadline": p["deadline"], "warned": False, "escalation_count": 0}
            stage |= {"escalated_to": None, "case": {k: p[k] for k in ("student_id", "sending_school")}}
            stage["case"]["receiving_school"] = p["receiving_school"]
        elif kind == "StageDeadlineChanged":
            stage["deadline"] = p["deadline"]
        elif kind == "StageClosed":
            stage |= {"open": False, "decision": p["decision"]}
        elif kind == "StageWarning":
            stage["warned"] = True
        elif kind == "StageBreached":
            stage |= {"escalated_to": p["escalated_to"], "escalation_count": p["escalation_count"]}
    return stages


class Mirror:
    def __init__(self, runtime: ServiceRuntime, filings: InboxFilings) -> None:
        self.runtime = runtime
        self.events = runtime.events
        self.filings = filings
        self.province = runtime.settings.province

    def addressed_here(self, p: RemoteMessage | c.TransferCaseChanged) -> bool:
        codes = (p.sending_school,) if isinstance(p, c.TransferCaseChanged) else (p.jurisdiction,)
        return any(province_of(code) == self.province for code in codes)

    async def record(self, message: Envelope[Any]) -> None:
        """Keep one message of the owning province; stage and SLA messages go on the local topics too."""
        p = message.payload
        commit_id = str(derive_id(message.message_id, "mirror"))
        # Everything goes on the local topics too: stages and SLA for inboxes and the dashboard, the case's outcome
        # for the registry here, which records the student leaving (R34).
        local = envelop(
            p, producer="transfer", province=self.province, occurred_at=message.occurred_at, causation=message,
            message_id=derive_id(commit_id, 0),
        )  # fmt: skip
        out = [Outgoing(_local_topic(p).name, p.transfer_id, local)]
        entry = {"type": "mirrored", "owner": message.province, "message_type": type(p).__name__}
        entry |= {"payload": p.model_dump(mode="json"), "at": message.occurred_at.isoformat()}
        await decide_and_save(self.events, PREFIX + p.transfer_id, commit_id, lambda _: Decision([entry], out))
        codes = [getattr(p, "jurisdiction", None), getattr(p, "escalated_to", None)]
        await self.filings.file(
            p.transfer_id, [c for c in codes if c and province_of(c) == self.province], owner=message.province
        )
        self.runtime.relay.nudge()

    async def entries(self, transfer_id: str) -> list[Document]:
        return [e for commit in await self.events.load(PREFIX + transfer_id) for e in commit["events"]]

    async def stages(self, transfer_id: str) -> dict[str, dict[str, Any]]:
        """The remote stages as the mirrored messages leave them: open or closed, deadline, escalation."""
        return stages_of(await self.entries(transfer_id))

    async def _offline_opened(self, transfer_id: str) -> bool:
        return any(e.get("message_type") == "TransferCaseChanged" and e["payload"]["outcome"] == OFFLINE_OPENED
                   for e in await self.entries(transfer_id))  # fmt: skip

    async def todos(self, transfer_id: str) -> list[dict[str, Any]]:
        """Open remote stages this province's parties decide, and the levels here chasing a breached one."""
        found = []
        for s in (await self.stages(transfer_id)).values():
            if not s.get("open") or "deadline" not in s:
                continue
            for code, action in ((s["jurisdiction"], "decide_stage"), (s["escalated_to"], "chase_stage")):
                if code and province_of(code) == self.province:
                    todo = {"_id": f"{transfer_id}:{code}:{action}", "code": code, "action": action}
                    todo |= {"stage": s["stage"], "transfer_id": transfer_id, "open_stage": inbox.stage_view(s)}
                    found.append(todo | s.get("case", {}) | {"owner_province": s["owner"]})
        return found

    async def forward_decision(self, transfer_id: str, command: DecideStage, commit_id: str, now: datetime) -> str:
        """A party here decided a remote stage: checked here, decided by the owning province. Returns it.
        A retry of a request whose first answer was lost (its commit `commit_id` stored) answers as that one did,
        also once the owner's answer closed the stage: the decision was forwarded then, and is not again."""
        commits = await self.events.load(PREFIX + transfer_id)
        stage = stages_of([e for commit in commits for e in commit["events"]]).get(command.stage.value)
        if stage is not None and any(commit.get("commit_id") == commit_id for commit in commits):
            return str(stage["owner"])
        if stage is None or not stage.get("open"):
            error = StageNotOpen("R21", f"the {command.stage.value} stage is not open here", field="stage")
            raise CaseRefused(error, None)
        if not acts_as(command.operator, LEVEL[command.stage], stage["jurisdiction"]):
            who = f"{command.operator.role.value} {command.operator.code}"
            raise CaseRefused(OutsideJurisdiction("R50", f"only {stage['jurisdiction']} may decide; not {who}"), None)
        # R21, R28: the record here (the owner has none) still has the student at the sending school, transferable.
        if command.decision is c.Decision.APPROVE and command.record is not None:
            try:
                check_sending_record(command.record, stage["case"]["sending_school"])
            except Refused as error:
                raise CaseRefused(error, None) from error
        # R34, answered here at once instead of dead-lettered by the owning province later.
        if command.decision is c.Decision.REJECT and command.reason_code:
            try:
                check_grounds(command.stage, command.reason_code, interprovincial=True)
            except Refused as error:
                raise CaseRefused(error, None) from error
        # R24, as the owner checks it: refused there, the decision would be lost, and the stage taken as decided here.
        if command.requested:
            try:
                check_no_approval_form(command.requested, offline=await self._offline_opened(transfer_id))
            except Refused as error:
                raise CaseRefused(error, None) from error
        submitted = decisions.to_message(transfer_id, command)
        message = envelop(
            submitted, producer="transfer", province=self.province, occurred_at=now,
            message_id=derive_id(commit_id, "forward"),
        )  # fmt: skip
        entry = {"type": "decision_forwarded", "payload": submitted.model_dump(mode="json"), "at": now.isoformat()}
        out = [Outgoing(INTERPROVINCE_TRANSFER.name, transfer_id, message)]

        def forward(history: list[Document]) -> Decision:
            # The stage stays open here until the owner's answer comes back: a second decision meanwhile (a double
            # click, another clerk) is a conflict, not a second message the owner would drop unseen.
            earlier = forwarded_since_opened(history, command.stage.value)
            if earlier is not None:
                p = earlier["payload"]
                why = f"{p['decision']} by {p['operator']} at {earlier['at']}, sent to province {stage['owner']}"
                raise CaseRefused(StageNotOpen("R21", f"the {p['stage']} stage was already decided: {why}"), None)
            return Decision([entry], out)

        await decide_and_save(self.events, PREFIX + transfer_id, commit_id, forward)
        self.runtime.relay.nudge()
        return str(stage["owner"])
