"""Feature comparisons of two profiles (R14): name by characters and by pinyin, birth date, gender, region, guardians,
and two resident ID numbers where both records have one.

The weights add up (Fellegi-Sunter), with three outcomes read together because they are not independent:
- twins: where the guardians and the birth date agree, different given names are two children (`name_twins`);
- a second ID number: two numbers equal but for their birth-date digits, or reissued (same region, new birth date
  and sequence code, same name and a guardian in common), explain the different birth dates, so the birth date
  adds nothing of its own there (`id_birth_date_part` / `id_reissued` carries both);
- two small errors: a one-digit date typo beside a name one slip apart weighs more than beside any other name
  (`birth_date_one_digit_near_name`, see NEAR_NAMES).
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from xueji_dedupe.domain.confusables import look_alike
from xueji_dedupe.domain.model import Gender
from xueji_dedupe.domain.policy import FeatureWeights
from xueji_dedupe.domain.profile import PersonProfile
from xueji_dedupe.domain.verdict import FeatureScore


class Outcome(NamedTuple):
    """One comparison's outcome as plain values. A check and the audit score every candidate pair on these and make
    the FeatureScores a verdict shows (`compare`) only for the pairs they flag: validating models for the many pairs
    that are not flagged was most of the audit's scoring time. Both sum the same weights in the same order, so a
    pair is flagged, and scored, identically either way."""

    name: str
    level: str
    similarity: float
    weight: float


def compare(a: PersonProfile, b: PersonProfile, weights: FeatureWeights) -> tuple[FeatureScore, ...]:
    """All feature scores of a pair, names first; their weights sum to the pair's evidence."""
    return feature_scores(outcomes(a, b, weights))


def feature_scores(found: tuple[Outcome, ...]) -> tuple[FeatureScore, ...]:
    """The evidence as the verdict and the reviewer show it."""
    return tuple(FeatureScore(name=o.name, level=o.level, similarity=o.similarity, weight=o.weight) for o in found)


def outcomes(a: PersonProfile, b: PersonProfile, weights: FeatureWeights) -> tuple[Outcome, ...]:
    """`compare` without the models: every outcome of a pair, names first."""
    chars, sound = compare_names(a, b, weights)
    born = compare_birth_dates(a.facts.birth_date, b.facts.birth_date, weights)
    guardians = compare_guardians(a, b, weights)
    numbers = compare_id_numbers(a, b, weights)
    if guardians is not None and guardians.level == "same" and born.level == "identical" and chars.level in TWINS:
        chars = chars._replace(level="twins", weight=weights.name_twins)
        sound = sound._replace(weight=0.0, level="twins")
    if numbers is not None and numbers.level in DATE_EXPLAINED:
        born = born._replace(weight=0.0)
    elif born.level == "one_digit" and chars.level in NEAR_NAMES:
        born = born._replace(weight=weights.birth_date_one_digit_near_name)
    extra = tuple(f for f in (guardians, numbers) if f is not None)
    return (
        chars,
        sound,
        born,
        compare_genders(a.facts.gender, b.facts.gender, weights),
        compare_regions(a.facts.region_code, b.facts.region_code, weights),
        *extra,
    )


TWINS = ("partial", "different")  # name levels that, with the same guardians and birth date, say "twins"
DATE_EXPLAINED = ("birth_date_part", "reissued")  # ID relations that account for the different birth dates
# Name levels one slip apart, with which a one-digit date typo weighs `birth_date_one_digit_near_name`: different
# children with such names in one block are mostly one family's, born the same day or years apart, not one digit
# apart. Not "identical" (namesakes are unrelated, their dates as random as anyone's) nor "one_char" (an unlike
# character is no clerk's slip; it weighs 0 because relatives have such names, m ~ u).
NEAR_NAMES = ("same_sound", "sounds_alike", "looks_alike", "similar")


def comparable(a: PersonProfile, b: PersonProfile) -> bool:
    """Two valid resident ID numbers are two persons, unless the names are the same and the numbers are one number
    mistyped or reissued (birth-date digits corrected, one digit apart, two digits swapped; or a new birth date
    and sequence code in the same region, with a guardian in common): a second ID number."""
    if not (a.reliable_ids and b.reliable_ids):
        return True
    return a.name_key == b.name_key and _second_id(a, b) is not None


def _second_id(a: PersonProfile, b: PersonProfile) -> str | None:
    """How two records' valid ID numbers may be one child's. "reissued": the police corrected the birth date and
    gave a new sequence code with it, so only the region (first 6 digits) is left in common; between two different
    children of one name that is rare only with a guardian in common (siblings are not given one full name), so
    it needs one. Two ID numbers are compared only for records of one name (`comparable`)."""
    relation = _id_relation(a.reliable_ids, b.reliable_ids)
    if relation is not None or not (a.guardians & b.guardians):
        return relation
    if any(x[:6] == y[:6] and x[6:14] != y[6:14] for x in a.reliable_ids for y in b.reliable_ids):
        return "reissued"
    return None


def compare_guardians(a: PersonProfile, b: PersonProfile, w: FeatureWeights) -> Outcome | None:
    """A guardian in common (by written name or reading), or none in common; nothing when either lists none."""
    if not (a.guardians and b.guardians):
        return None
    if a.guardians & b.guardians:
        return Outcome("guardians", "same", 1.0, w.guardian_same)
    if _other_parent(a, b):
        return Outcome("guardians", "other_parent", 0.3, w.guardian_other_parent)
    return Outcome("guardians", "different", 0.0, w.guardian_different)


def _other_parent(a: PersonProfile, b: PersonProfile) -> bool:
    """No guardian in common, but the two lists may name the two parents of one child: one record lists only
    guardians with the child's surname (the father's side), the other only guardians without it (the mother's).
    Two namesakes' fathers, or their mothers, are on the same side: "different" stays strong for them."""
    surname = a.name_key[:1]
    if not surname or a.name_key[:1] != b.name_key[:1]:
        return False
    sides_a = {key[2:3] == surname for key in a.guardians if key.startswith("k:")}
    sides_b = {key[2:3] == surname for key in b.guardians if key.startswith("k:")}
    return len(sides_a) == 1 and len(sides_b) == 1 and sides_a != sides_b


def compare_id_numbers(a: PersonProfile, b: PersonProfile, w: FeatureWeights) -> Outcome | None:
    """Two different valid ID numbers that may be one person's (see `comparable`); nothing unless both have one."""
    if not (a.reliable_ids and b.reliable_ids):
        return None
    level = _second_id(a, b)
    if level == "birth_date_part":
        return Outcome("id_number", level, 0.8, w.id_birth_date_part)
    if level == "reissued":
        return Outcome("id_number", level, 0.5, w.id_reissued)
    if level is not None:
        return Outcome("id_number", level, 0.9, w.id_near)
    return Outcome("id_number", "different", 0.0, 0.0)


def _id_relation(first: frozenset[str], second: frozenset[str]) -> str | None:
    for x in first:
        for y in second:
            relation = id_relation(x, y)
            if relation is not None:
                return relation
    return None


def id_relation(x: str, y: str) -> str | None:
    """How two different 18-character ID numbers relate: equal but for the birth date (YYYYMMDD, digits 7-14),
    one digit apart or two adjacent digits swapped (in the first 17; the check character follows them), or None."""
    if x == y:
        return None
    if x[:6] == y[:6] and x[14:17] == y[14:17]:
        return "birth_date_part"
    body_x, body_y = x[:17], y[:17]
    differ = [i for i in range(17) if body_x[i] != body_y[i]]
    if len(differ) == 1:
        return "one_digit"
    if len(differ) == 2 and differ[1] == differ[0] + 1:
        i, j = differ
        if body_x[i] == body_y[j] and body_x[j] == body_y[i]:
            return "transposed"
    return None


def compare_names(a: PersonProfile, b: PersonProfile, w: FeatureWeights) -> tuple[Outcome, Outcome]:
    """(name_chars, name_pinyin): the one that decided the outcome carries the weight, the other 0.

    Characters decide identical, look-alike and plainly different names; pinyin decides homophones
    (同音字) and near-homophones, the characters a pinyin input method offers next to the right one.
    """
    chars = fuzz.ratio(a.name_key, b.name_key) / 100.0
    sound = fuzz.ratio(" ".join(a.syllables), " ".join(b.syllables)) / 100.0
    level, weight, decided_by = _name_level(a, b, chars, sound, w)
    chars_weight, sound_weight = (weight, 0.0) if decided_by == "name_chars" else (0.0, weight)
    return Outcome("name_chars", level, chars, chars_weight), Outcome("name_pinyin", level, sound, sound_weight)


def _name_level(
    a: PersonProfile, b: PersonProfile, chars: float, sound: float, w: FeatureWeights
) -> tuple[str, float, str]:
    if a.name_key == b.name_key:
        return "identical", w.name_identical, "name_chars"
    if a.syllables == b.syllables:
        return "same_sound", w.name_same_sound, "name_pinyin"
    if len(a.name_key) == len(b.name_key):
        # Positions whose characters differ and are not homophones: one is a typo, two a new name.
        unlike = [
            i for i in range(len(a.name_key)) if a.name_key[i] != b.name_key[i] and a.syllables[i] != b.syllables[i]
        ]
        if len(unlike) == 1:
            i = unlike[0]
            if a.fuzzy[i] == b.fuzzy[i]:
                return "sounds_alike", w.name_alike, "name_pinyin"
            if look_alike(a.name_key[i], b.name_key[i]):
                return "looks_alike", w.name_alike, "name_chars"
    if max(len(a.name_key), len(b.name_key)) >= 4 and Levenshtein.distance(a.name_key, b.name_key) == 1:
        return "similar", w.name_similar, "name_chars"
    if _one_given_character_apart(a, b):
        return "one_char", w.name_one_char, "name_chars"
    if chars >= 0.5 or sound >= 0.7:
        return "partial", w.name_partial, "name_chars"
    return "different", w.name_different, "name_chars"


def _one_given_character_apart(a: PersonProfile, b: PersonProfile) -> bool:
    """Same surname and length (3 or more), every position equal or read alike but one of the given name, and that
    character neither sounds nor looks alike (those are decided before): 恰 for 怡 - or, as often, a sibling's,
    cousin's or twin's name sharing the generation character, so the policy weighs it about 0 (m ~ u)."""
    if len(a.name_key) != len(b.name_key) or len(a.name_key) < 3 or a.name_key[0] != b.name_key[0]:
        return False
    unlike = [i for i in range(len(a.name_key)) if a.name_key[i] != b.name_key[i] and a.fuzzy[i] != b.fuzzy[i]]
    return len(unlike) == 1 and unlike[0] > 0


def birth_date_level(a: date, b: date) -> str:
    """Identical, transposed (day and month swapped), one_digit (of YYYYMMDD) or different; no objects made, so a
    check can drop a candidate whose level cannot reach review before scoring it."""
    if a == b:
        return "identical"
    if a.year == b.year and a.month == b.day and a.day == b.month:
        return "transposed"
    digits_a = f"{a.year:04d}{a.month:02d}{a.day:02d}"
    digits_b = f"{b.year:04d}{b.month:02d}{b.day:02d}"
    if sum(x != y for x, y in zip(digits_a, digits_b, strict=True)) == 1:
        return "one_digit"
    return "different"


def compare_birth_dates(a: date, b: date, w: FeatureWeights) -> Outcome:
    """Identical, day and month transposed, one digit of YYYYMMDD off, or different."""
    level = birth_date_level(a, b)
    if level == "identical":
        return Outcome("birth_date", "identical", 1.0, w.birth_date_identical)
    if level == "transposed":
        return Outcome("birth_date", "transposed", 0.8, w.birth_date_transposed)
    if level == "one_digit":
        return Outcome("birth_date", "one_digit", 0.7, w.birth_date_one_digit)
    return Outcome("birth_date", "different", 0.0, w.birth_date_different)


def compare_genders(a: Gender, b: Gender, w: FeatureWeights) -> Outcome:
    """Gender must agree: a mismatch is strong evidence of two persons."""
    if a == b:
        return Outcome("gender", "same", 1.0, w.gender_same)
    return Outcome("gender", "different", 0.0, w.gender_different)


def compare_regions(a: str, b: str, w: FeatureWeights) -> Outcome:
    """By administrative-division prefix: county (6 digits) > city (4) > province (2) > elsewhere."""
    if a == b:
        return Outcome("region", "same_county", 1.0, w.region_same_county)
    if a[:4] == b[:4]:
        return Outcome("region", "same_city", 0.67, w.region_same_city)
    if a[:2] == b[:2]:
        return Outcome("region", "same_province", 0.33, w.region_same_province)
    return Outcome("region", "different", 0.0, w.region_different)
