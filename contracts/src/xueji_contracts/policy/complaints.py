"""R53: how a complaint reaches the body that handles it. 003 Q15: each handling level (school, county, city,
province) publishes how to apply and a telephone number; only inter-provincial matters go to the Ministry."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from xueji_contracts.auth import is_jurisdiction_code
from xueji_contracts.messages.transfer import Level

PHONE = r"^\+?[0-9][0-9 ()-]{2,29}$"


class ComplaintChannel(BaseModel):
    """What a handling body publishes: how to apply, and a phone number."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    how_to_apply: str = Field(min_length=1, max_length=1000, description="how to file, in the body's own words")
    phone: str = Field(pattern=PHONE, description="a published telephone number, e.g. 0596-2345678 or 12345")
    hours: str | None = Field(default=None, max_length=200, description="when the line is answered")


class Complaints(BaseModel):
    """Per level a default channel; per school or division code a body's own (it wins over its level's)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    by_level: dict[Level, ComplaintChannel] = Field(default_factory=dict)
    by_code: dict[str, ComplaintChannel] = Field(default_factory=dict)

    @field_validator("by_code")
    @classmethod
    def _codes(cls, channels: dict[str, ComplaintChannel]) -> dict[str, ComplaintChannel]:
        bad = [code for code in channels if not is_jurisdiction_code(code)]
        if bad:
            raise ValueError(f"not a 10-digit school or 6-digit division code: {', '.join(sorted(bad))}")
        return channels

    def channel(self, level: Level, code: str) -> ComplaintChannel | None:
        """The channel of the body at `level` with `code`, or None when the province published none."""
        return self.by_code.get(code) or self.by_level.get(level)
