"""Transfer settings: the shared service settings with the transfer service's name, timers and mirrored topics."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from xueji_contracts.topics import INTERPROVINCE_TRANSFER
from xueji_kit.settings import ServiceSettings


class TransferSettings(ServiceSettings):
    service_name: str = "transfer"
    school_directory_file: Path | None = Field(
        default=None,
        description="the province's school directory, the registry's file (XUEJI_SCHOOL_DIRECTORY_FILE): case views "
        "name the schools; without it the names are null",
    )
    scheduler_enabled: bool = Field(default=True, description="fire SLA timers on the wall clock (off in tests)")
    scheduler_interval_seconds: float = Field(default=0.5, gt=0, description="tick; firing delay is at most about this")
    scheduler_lookback_minutes: int = Field(
        default=24 * 60, ge=1, description="minutes a restarted scheduler reads one by one (older: those with timers)"
    )
    scheduler_stale_claim_seconds: float = Field(
        default=60, gt=0, description="a timer claimed by a replica that died is fired again after this long"
    )
    interprovince_inbound_topics: tuple[str, ...] = Field(
        default=(INTERPROVINCE_TRANSFER.name,),
        description="where other provinces' transfer messages arrive, e.g. national.hn.interprovince.transfer.v1",
    )
    test_working_day_seconds: float | None = Field(
        default=None,
        gt=0,
        description="TEST ONLY: a working day lasts this many seconds, so SLA deadlines fall due within seconds "
        "(the reliability suite's timer crash test); never set in production",
    )
    max_backdating_days: int = Field(
        default=30, ge=0, description="how long before it is recorded a guardian's application may have been received"
    )
