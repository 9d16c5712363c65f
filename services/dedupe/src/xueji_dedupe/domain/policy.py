"""The knobs of fuzzy matching: evidence weights and the duplicate / review thresholds (R14)."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class FeatureWeights(BaseModel):
    """Evidence, in bits, that each comparison outcome adds for "same person" (Fellegi-Sunter).

    Each default is log2(m/u) rounded: m is how often true duplicates show the outcome, u how often
    two different school-age children in one province do. For example an identical birth date:
    m ~ 0.95 (only the corrupted ones differ), u ~ 1/4,700 (13 school years of days), so
    log2(0.95 * 4700) ~ 12. A transposed day/month has the same u and m ~ 0.02, so ~ 6.5. Negative
    weights are evidence against: a gender mismatch (m ~ 0.01, u ~ 0.5) is -6.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name_identical: float = 13.0
    name_same_sound: float = 10.0  # every character reads the same (同音字)
    name_alike: float = 8.0  # one character sounds or looks alike, the rest equal or homophones
    name_similar: float = 6.0  # one character added, dropped or changed in a name of 4 or more
    name_partial: float = -4.0  # shares surname or a character: the commonest pattern among strangers
    name_different: float = -10.0
    birth_date_identical: float = 12.0
    birth_date_transposed: float = 6.5  # day and month swapped: 2014-03-07 for 2014-07-03
    birth_date_one_digit: float = 3.0  # one digit of YYYYMMDD mistyped
    birth_date_different: float = -7.0
    gender_same: float = 1.0
    gender_different: float = -6.0
    region_same_county: float = 4.0  # 6-digit code equal
    region_same_city: float = 1.0  # first 4 digits equal
    region_same_province: float = -1.0  # first 2 digits equal: a move across cities
    region_different: float = -2.0  # another province: migrant children do move, so only mild


class MatchPolicy(BaseModel):
    """Thresholds on the match probability; a province may override them in its policy file.

    Defaults: `duplicate_threshold` 0.98 is reached by an identical name, birth date and gender in the
    same city, or a same-sounding name in the same county; such a request is refused as a duplicate.
    `review_threshold` 0.5 (even odds) sends the rest of the plausible matches (a mistyped character,
    a swapped day and month, a move to another county) to the county review queue. `prior_log2_odds`
    -21 is the chance that two random records are one person: ~5% duplicates in ~100,000 records.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    duplicate_threshold: float = Field(default=0.98, ge=0.0, le=1.0)
    review_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    prior_log2_odds: float = -21.0
    weights: FeatureWeights = Field(default_factory=FeatureWeights)
    max_matches: int = Field(default=5, ge=1, description="how many matches a verdict lists, best first")

    @model_validator(mode="after")
    def _review_below_duplicate(self) -> Self:
        if self.review_threshold > self.duplicate_threshold:
            raise ValueError("review_threshold must not exceed duplicate_threshold")
        return self
