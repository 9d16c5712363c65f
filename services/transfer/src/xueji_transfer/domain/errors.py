"""Domain errors of a transfer case: each names the rule (RULES.md id) and says why in plain words."""

from __future__ import annotations


class TransferError(Exception):
    """A command the rules refuse; nothing is recorded. `field` names the offending input, if one."""

    def __init__(self, rule: str, reason: str, *, field: str | None = None) -> None:
        super().__init__(f"{rule}: {reason}")
        self.rule = rule
        self.reason = reason
        self.field = field


class Refused(TransferError):
    """Eligibility, reasons, windows and policy (R20, R24-R30, R32-R34)."""


class OutOfOrder(TransferError):
    """A step attempted before the steps it follows (R21) or after the case ended."""


class StageNotOpen(TransferError):
    """A decision on a stage that is not open (never opened, already decided, or the case ended)."""


class OutsideJurisdiction(TransferError):
    """The operator's role or jurisdiction does not cover the party that must act (R50)."""
