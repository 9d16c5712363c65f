"""Payloads on `calendar.notice.v1`: a year's State Council holiday notice loaded at run time (R31).

The packaged national calendar and the province's policy and calendar files are read by every service alike; a
notice loaded later, through the transfer service's administration API, reaches the others only as this message.
Each consumer applies it to the same base (national notices plus the province's adjustments), so its calendar
version comes out as `calendar_version`; a consumer whose version differs counts on other data and says so.
"""

from __future__ import annotations

from datetime import date

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class CalendarNoticeLoaded(BaseModel):
    """One year's notice as loaded (replacing any earlier one for that year): rest days and make-up working days."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "x-producer": "transfer",
            "examples": [
                {
                    "year": 2027,
                    "rest_days": ["2027-01-01"],
                    "working_days": [],
                    "names": {"2027-01-01": "元旦"},
                    "source": "国办发明电〔2026〕x号",
                    "calendar_version": "cn-2004-2027.1a2b3c4d",
                    "loaded_by": "province-admin-1",
                    "loaded_at": "2026-12-06T02:00:00Z",
                }
            ],
        },
    )

    year: int = Field(ge=2004, le=2100, description="the year the notice is for; also the message key")
    rest_days: tuple[date, ...] = Field(default=(), description="days off that would otherwise be working days")
    working_days: tuple[date, ...] = Field(default=(), description="make-up working days on weekends")
    names: dict[date, str] = Field(default_factory=dict, description="holiday names, e.g. 元旦")
    source: str | None = Field(default=None, max_length=500, description="where the notice was published")
    calendar_version: str = Field(
        min_length=1, description="the producer's calendar version with this notice loaded (deadlines record it)"
    )
    loaded_by: str = Field(min_length=1, description="the operator id (token subject) who loaded it")
    loaded_at: AwareDatetime
