"""Synthetic student records with labelled duplicates, and the evaluation of the checker against them; the demo
province `make run` loads (`province`). Test, benchmark and demo data, so outside the dedupe service's sources
(issue 17); the duplicate check was first tuned on this generator (bench.dedupe_independent's "tuned" set)."""

from bench.synthetic.corruptions import CorruptionKind
from bench.synthetic.dataset import DuplicatePair, SyntheticDataset
from bench.synthetic.evaluation import Evaluation, Tally, evaluate
from bench.synthetic.generator import generate
from bench.synthetic.numbers import id_number_for

__all__ = [
    "CorruptionKind",
    "DuplicatePair",
    "Evaluation",
    "SyntheticDataset",
    "Tally",
    "evaluate",
    "generate",
    "id_number_for",
]
