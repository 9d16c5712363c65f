"""Transfer settings: the shared service settings with the transfer service's name, timers and mirrored topics."""

from __future__ import annotations

from pydantic import Field

from xueji_contracts.topics import INTERPROVINCE_TRANSFER
from xueji_kit.settings import ServiceSettings


class TransferSettings(ServiceSettings):
    service_name: str = "transfer"
    scheduler_enabled: bool = Field(default=True, description="fire SLA timers on the wall clock (off in tests)")
    scheduler_interval_seconds: float = Field(default=0.5, gt=0, description="tick; firing delay is at most about this")
    scheduler_lookback_minutes: int = Field(default=24 * 60, ge=1, description="how far a fresh scheduler looks back")
    interprovince_inbound_topics: tuple[str, ...] = Field(
        default=(INTERPROVINCE_TRANSFER.name,),
        description="where other provinces' transfer messages arrive, e.g. national.hn.interprovince.transfer.v1",
    )
    max_backdating_days: int = Field(
        default=30, ge=0, description="how long before it is recorded a guardian's application may have been received"
    )
