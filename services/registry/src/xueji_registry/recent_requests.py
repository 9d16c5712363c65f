"""The enrollment requests a replica stored lately, so their verdicts need not read them back (R14)."""

from __future__ import annotations

from collections import OrderedDict

from xueji_registry.domain.enrollment_request import EnrollmentRequested


class RecentRequests:
    """The enrollment requests this replica stored lately, by student id. The verdict completing one usually comes
    back within seconds, to this replica, and reading the request back from the store would cost a lookup per
    student of a class; a verdict for a request stored elsewhere (another replica, before a restart) reads it."""

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self._requested: OrderedDict[str, EnrollmentRequested] = OrderedDict()

    def keep(self, student_id: str, requested: EnrollmentRequested) -> None:
        self._requested[student_id] = requested
        while len(self._requested) > self.size:
            self._requested.popitem(last=False)

    def take(self, student_id: str) -> EnrollmentRequested | None:
        return self._requested.pop(student_id, None)
