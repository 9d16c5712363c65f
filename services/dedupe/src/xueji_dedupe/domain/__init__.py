"""Pure domain core of the dedupe service: no I/O, no clock; the service wires it to Kafka and HTTP."""

from xueji_dedupe.domain.check import check, match_probability
from xueji_dedupe.domain.features import compare
from xueji_dedupe.domain.identity import InvalidIdNumber, identity_keys, resident_id, status_number
from xueji_dedupe.domain.index import DedupeIndex
from xueji_dedupe.domain.model import CandidateRecord, CheckRequest, Gender, PersonFacts
from xueji_dedupe.domain.names import name_key, normalise_name
from xueji_dedupe.domain.pinyin import fuzzy_syllables, name_syllables
from xueji_dedupe.domain.policy import FeatureWeights, MatchPolicy
from xueji_dedupe.domain.profile import PersonProfile, profile_of
from xueji_dedupe.domain.verdict import FeatureScore, MatchedRecord, Verdict, VerdictKind

__all__ = [
    "CandidateRecord",
    "CheckRequest",
    "DedupeIndex",
    "FeatureScore",
    "FeatureWeights",
    "Gender",
    "InvalidIdNumber",
    "MatchPolicy",
    "MatchedRecord",
    "PersonFacts",
    "PersonProfile",
    "Verdict",
    "VerdictKind",
    "check",
    "compare",
    "fuzzy_syllables",
    "identity_keys",
    "match_probability",
    "name_key",
    "name_syllables",
    "normalise_name",
    "profile_of",
    "resident_id",
    "status_number",
]
