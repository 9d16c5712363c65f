"""Feature comparisons of two profiles: name by characters and by pinyin, birth date, gender, region (R14)."""

from __future__ import annotations

from datetime import date

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from xueji_dedupe.domain.confusables import look_alike
from xueji_dedupe.domain.model import Gender
from xueji_dedupe.domain.policy import FeatureWeights
from xueji_dedupe.domain.profile import PersonProfile
from xueji_dedupe.domain.verdict import FeatureScore


def compare(a: PersonProfile, b: PersonProfile, weights: FeatureWeights) -> tuple[FeatureScore, ...]:
    """All feature scores of a pair, names first; their weights sum to the pair's evidence."""
    return (
        *compare_names(a, b, weights),
        compare_birth_dates(a.facts.birth_date, b.facts.birth_date, weights),
        compare_genders(a.facts.gender, b.facts.gender, weights),
        compare_regions(a.facts.region_code, b.facts.region_code, weights),
    )


def compare_names(a: PersonProfile, b: PersonProfile, w: FeatureWeights) -> tuple[FeatureScore, FeatureScore]:
    """(name_chars, name_pinyin): the one that decided the outcome carries the weight, the other 0.

    Characters decide identical, look-alike and plainly different names; pinyin decides homophones
    (同音字) and near-homophones, the characters a pinyin input method offers next to the right one.
    """
    chars = fuzz.ratio(a.name_key, b.name_key) / 100.0
    sound = fuzz.ratio(" ".join(a.syllables), " ".join(b.syllables)) / 100.0
    level, weight, decided_by = _name_level(a, b, chars, sound, w)
    chars_weight, sound_weight = (weight, 0.0) if decided_by == "name_chars" else (0.0, weight)
    return (
        FeatureScore(name="name_chars", level=level, similarity=chars, weight=chars_weight),
        FeatureScore(name="name_pinyin", level=level, similarity=sound, weight=sound_weight),
    )


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
    if chars >= 0.5 or sound >= 0.7:
        return "partial", w.name_partial, "name_chars"
    return "different", w.name_different, "name_chars"


def compare_birth_dates(a: date, b: date, w: FeatureWeights) -> FeatureScore:
    """Identical, day and month transposed, one digit of YYYYMMDD off, or different."""
    if a == b:
        return FeatureScore(name="birth_date", level="identical", similarity=1.0, weight=w.birth_date_identical)
    if a.year == b.year and a.month == b.day and a.day == b.month:
        return FeatureScore(name="birth_date", level="transposed", similarity=0.8, weight=w.birth_date_transposed)
    digits_a, digits_b = a.strftime("%Y%m%d"), b.strftime("%Y%m%d")
    if sum(x != y for x, y in zip(digits_a, digits_b, strict=True)) == 1:
        return FeatureScore(name="birth_date", level="one_digit", similarity=0.7, weight=w.birth_date_one_digit)
    return FeatureScore(name="birth_date", level="different", similarity=0.0, weight=w.birth_date_different)


def compare_genders(a: Gender, b: Gender, w: FeatureWeights) -> FeatureScore:
    """Gender must agree: a mismatch is strong evidence of two persons."""
    if a == b:
        return FeatureScore(name="gender", level="same", similarity=1.0, weight=w.gender_same)
    return FeatureScore(name="gender", level="different", similarity=0.0, weight=w.gender_different)


def compare_regions(a: str, b: str, w: FeatureWeights) -> FeatureScore:
    """By administrative-division prefix: county (6 digits) > city (4) > province (2) > elsewhere."""
    if a == b:
        return FeatureScore(name="region", level="same_county", similarity=1.0, weight=w.region_same_county)
    if a[:4] == b[:4]:
        return FeatureScore(name="region", level="same_city", similarity=0.67, weight=w.region_same_city)
    if a[:2] == b[:2]:
        return FeatureScore(name="region", level="same_province", similarity=0.33, weight=w.region_same_province)
    return FeatureScore(name="region", level="different", similarity=0.0, weight=w.region_different)
