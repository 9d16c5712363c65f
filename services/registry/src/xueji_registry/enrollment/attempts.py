"""A class sheet's rows as enrollment requests, a refused row's next attempt among them (R01, R02, R14).

A row's request id is derived from the school, the person and the attempt (`sheet_rows.row_correlation`): the first
until its request is refused (by dedupe's R01 duplicate, a rule the registry checks at creation, or the county's
"same person"), then the next. Its attempts are walked by `_id`, and the row is
- a new request when no attempt was asked yet, or when every one was refused and the row says what none of them said
  (corrected): checked afresh, as any request;
- the request asked before when that one is pending or enrolled: it stands as first asked (a corrected row is told
  `not_applied`, `reupload`);
- still refused when it says what a refused attempt said and no later one was asked: told with that refusal, and
  nothing is asked.
So the same file sent again asks nothing twice, whatever became of its rows meanwhile. A row refused at upload (a bad
ID number, a missing column) is stored nowhere: uploaded again, corrected, it is a first attempt like any other.

An upload with an Idempotency-Key stamps the requests it asks with its id (`upload`, derived from the caller, the key
and the file: `api/bulk.py`). Retried after its answer was lost (the process stopped after answering, the key's claim
was not written, the key expired), it walks the same attempts and finds its own requests: such a row is told as the
first answer told it, asked now (with the refused request it follows), not as asked before; a row another upload
asked is told as then. A row its request was refused since (a verdict arrived in between) is told that refusal, as a
re-upload would tell it: what the clerk has to act on, where the first answer could only say "requested". Stored,
nothing changes: the retry asks what the first upload asked, so it writes nothing.
A new attempt's check names every attempt of the row refused before it (`CheckRequested.refused_before`): dedupe may
read it before their refusals on the identity feed, and refused it as a duplicate of a request that never became a
record (R01).

What a row costs the store: a first attempt only its share of `request_enrollments`' few writes per chunk; a row
asked before, two `_id` lookups (its request, the refusal at its version 2); each refused attempt walked past, two
more; a corrected one, its share of one more bulk write. A chunk's lookups go out together (`EventStore.commits_at`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from xueji_contracts.auth import OperatorClaims
from xueji_kit.store import Document
from xueji_registry.domain import enrollment_request as request
from xueji_registry.domain.enrollment_request import EnrollmentRefused, EnrollmentRequest, EnrollmentRequested
from xueji_registry.enrollment.requests import asked_then, pending_stream, request_enrollments, student_of
from xueji_registry.enrollment.reupload import differences
from xueji_registry.enrollment.sheet_rows import row_correlation
from xueji_registry.service import RegistryService


@dataclass(frozen=True)
class Asked:
    """What became of a row: its request's student id; that request as asked before (None: asked now, or by the keyed
    upload this one retries); its refusal, when the row says what that refused request said; and the refused request
    a new one follows."""

    student_id: str
    first: EnrollmentRequest | None = None
    refused: EnrollmentRefused | None = None
    refused_before: str | None = None


@dataclass
class _Row:
    body: EnrollmentRequest
    attempt: int = 1
    refused: list[str] = field(default_factory=list)  # the student ids of its attempts walked past, all refused
    as_refused: Asked | None = None  # the refused attempt that said what the row says

    @property
    def student_id(self) -> str:
        return student_of(row_correlation(self.body, self.attempt))

    @property
    def refused_before(self) -> str | None:
        return self.refused[-1] if self.refused else None

    def asked(self) -> tuple[EnrollmentRequest, uuid.UUID, tuple[str, ...]]:
        """Its attempt's request, with the attempts it follows, each refused: dedupe's check of it ends what dedupe
        may still hold for them, whether or not their refusals reached it before this check did (R01)."""
        return self.body, row_correlation(self.body, self.attempt), tuple(self.refused)


async def request_rows(
    service: RegistryService, bodies: list[EnrollmentRequest], operator: OperatorClaims, upload: str | None = None
) -> list[Asked]:
    """Each row's request, asked now or before, or its standing refusal, in the rows' order; `upload`: the keyed
    upload's id, whose own requests, found again by its retry, are told as asked now."""
    rows = [_Row(body) for body in bodies]
    answers: dict[int, Asked] = {}
    asking = list(range(len(rows)))  # their attempt is asked for (stored, unless it was asked before)
    looking: list[int] = []  # said what a refused attempt said: their next attempt only looked up, never asked
    while asking or looking:
        begun: list[tuple[int, str, EnrollmentRequested]] = []
        wanted = [rows[i].asked() for i in asking]
        asked = await request_enrollments(service, wanted, operator, upload) if asking else []
        for i, (student_id, first) in zip(asking, asked, strict=True):
            if first is None:
                answers[i] = Asked(student_id, refused_before=rows[i].refused_before)
            else:
                begun.append((i, student_id, first))
        later = await service.events.commits_at([(pending_stream(rows[i].student_id), 1) for i in looking])
        for i, first_commit in zip(looking, later, strict=True):
            if (first := asked_then(first_commit)) is None:
                matched = rows[i].as_refused
                assert matched is not None, "looked up only for a row a refused attempt matched"
                answers[i] = matched
            else:
                begun.append((i, rows[i].student_id, first))
        asking, looking = [], []
        refusals = await service.events.commits_at([(pending_stream(student_id), 2) for _, student_id, _ in begun])
        for (i, student_id, first), refusal in zip(begun, refusals, strict=True):
            row, refused = rows[i], _refusal(refusal)
            if refused is None:
                this_upload = upload is not None and first.upload == upload  # a retry of it: asked now, as it said
                asked_before = None if this_upload else first.request
                answers[i] = Asked(student_id, asked_before, refused_before=row.refused_before)
                continue
            if not differences(first.request, row.body):
                row.as_refused = Asked(student_id, first.request, refused)
            row.attempt = row.attempt + 1
            row.refused.append(student_id)
            (looking if row.as_refused else asking).append(i)
    return [answers[i] for i in range(len(rows))]


def _refusal(commit: Document | None) -> EnrollmentRefused | None:
    """The refusal a pending stream's second commit holds (nothing else follows a request there)."""
    return None if commit is None else request.replay(request.from_documents(commit["events"])).refused
