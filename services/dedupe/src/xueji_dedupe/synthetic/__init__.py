"""Synthetic student records with labelled duplicates, and the evaluation of the checker against them."""

from xueji_dedupe.synthetic.corruptions import CorruptionKind
from xueji_dedupe.synthetic.dataset import DuplicatePair, SyntheticDataset
from xueji_dedupe.synthetic.evaluation import Evaluation, Tally, evaluate
from xueji_dedupe.synthetic.generator import generate
from xueji_dedupe.synthetic.numbers import id_number_for

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
