"""A synthetic dataset: records in creation order and the ground truth of which are the same child."""

from __future__ import annotations

from dataclasses import dataclass

from bench.synthetic.corruptions import CorruptionKind
from xueji_dedupe.domain.model import CandidateRecord


@dataclass(frozen=True, slots=True)
class DuplicatePair:
    """Ground truth: `duplicate_id` is a second record of the child in `original_id`, made by `kind`."""

    original_id: str
    duplicate_id: str
    kind: CorruptionKind
    detail: str


@dataclass(frozen=True, slots=True)
class SyntheticDataset:
    records: tuple[CandidateRecord, ...]  # in creation order (shuffled)
    pairs: tuple[DuplicatePair, ...]

    def truth(self) -> frozenset[frozenset[str]]:
        return frozenset(frozenset((pair.original_id, pair.duplicate_id)) for pair in self.pairs)
