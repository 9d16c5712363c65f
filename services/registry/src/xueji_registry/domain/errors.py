"""Domain errors of a status record: each names the rule (RULES.md id) and says why in plain words."""

from __future__ import annotations

from xueji_contracts.messages.status import StatusState


class RegistryError(Exception):
    """A command the rules refuse; nothing is recorded. `field` names the offending input, if one."""

    def __init__(self, rule: str, reason: str, *, field: str | None = None) -> None:
        super().__init__(f"{rule}: {reason}")
        self.rule = rule
        self.reason = reason
        self.field = field


class Refused(RegistryError):
    """A precondition, evidence requirement or number format the rules do not meet."""


class IllegalTransition(RegistryError):
    """The record's current state does not allow the change; the HTTP layer answers 409."""

    def __init__(self, rule: str, action: str, current: StatusState, *, detail: str | None = None) -> None:
        reason = f"cannot {action} while the status is '{current.value}'"
        super().__init__(rule, f"{reason}; {detail}" if detail else reason)
        self.action = action
        self.current = current


class DuplicateStatus(RegistryError):
    """R01/R14: a second status for the same person; `existing` refers to the record that already exists."""

    def __init__(self, reason: str, *, existing: str | None = None) -> None:
        super().__init__("R01", reason)
        self.existing = existing


class RecordClosed(RegistryError):
    """The record was deleted with Ministry approval or refused as a duplicate; its history stays, nothing more."""


class UnknownRecord(RegistryError):
    """A command for a student that has no status record (or a change id that was never requested)."""


class OutsideJurisdiction(RegistryError):
    """R50: the operator's role or jurisdiction does not cover what the command touches."""
