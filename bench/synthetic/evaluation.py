"""Precision, recall and F1 of the duplicate check over a synthetic dataset, overall and per kind."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from bench.synthetic.dataset import SyntheticDataset
from xueji_dedupe.domain.check import check
from xueji_dedupe.domain.index import DedupeIndex
from xueji_dedupe.domain.model import CheckRequest
from xueji_dedupe.domain.policy import MatchPolicy
from xueji_dedupe.domain.verdict import VerdictKind

Pair = frozenset[str]


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 1.0


@dataclass(frozen=True, slots=True)
class Tally:
    """Pair counts. A pair is "flagged" when the check said duplicate or possible_duplicate."""

    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    refused: int = 0  # true pairs decided `duplicate` outright, without review

    @property
    def precision(self) -> float:
        return _ratio(self.true_positives, self.true_positives + self.false_positives)

    @property
    def recall(self) -> float:
        return _ratio(self.true_positives, self.true_positives + self.false_negatives)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True, slots=True)
class Evaluation:
    overall: Tally
    by_kind: dict[str, Tally]
    false_positive_pairs: tuple[Pair, ...] = field(default=())
    missed_pairs: tuple[Pair, ...] = field(default=())
    comparisons: int = 0


def evaluate(dataset: SyntheticDataset, policy: MatchPolicy | None = None) -> Evaluation:
    """Replay the dataset as creations in order: each record is checked against those created before it.

    Every record is then indexed whatever the verdict, so each true pair is judged exactly once,
    when its later record is created. A false positive is charged to the kind of the checked
    record's own duplicate pair, or to "unrelated" when the checked record has none.
    """
    policy = policy or MatchPolicy()
    truth = dataset.truth()
    kind_of_pair = {frozenset((p.original_id, p.duplicate_id)): p.kind.value for p in dataset.pairs}
    kind_of_record = {member: kind for pair, kind in kind_of_pair.items() for member in pair}
    found: set[Pair] = set()
    refused: set[Pair] = set()
    false_positives: list[Pair] = []
    fp_by_kind: Counter[str] = Counter()
    comparisons = 0
    index = DedupeIndex()
    for record in dataset.records:
        verdict = check(index, CheckRequest.model_validate(record.model_dump()), policy)
        comparisons += verdict.candidates_compared
        for match in verdict.matches:
            pair = frozenset((record.student_id, match.student_id))
            if pair in truth:
                found.add(pair)
                if verdict.kind is VerdictKind.DUPLICATE:
                    refused.add(pair)
            else:
                false_positives.append(pair)
                fp_by_kind[kind_of_record.get(record.student_id, "unrelated")] += 1
        index.upsert(record)

    by_kind: dict[str, Tally] = {}
    for kind in sorted({*kind_of_pair.values(), *fp_by_kind}):
        pairs = {pair for pair, k in kind_of_pair.items() if k == kind}
        by_kind[kind] = Tally(len(pairs & found), fp_by_kind[kind], len(pairs - found), len(pairs & refused))
    overall = Tally(len(found), len(false_positives), len(truth - found), len(refused))
    return Evaluation(overall, by_kind, tuple(false_positives), tuple(truth - found), comparisons)
