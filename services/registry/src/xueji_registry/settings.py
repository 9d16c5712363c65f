"""Registry settings: the shared service settings with the registry's name, database and enrollment wait."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from xueji_contracts.topics import INTERPROVINCE_FILE
from xueji_kit.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    service_name: str = "registry"
    enrollment_wait_seconds: float = 2.0
    scheduler_enabled: bool = Field(
        default=True, description="fire compliance deadlines (R02, R44) on the wall clock (tests drive time instead)"
    )
    scheduler_interval_seconds: float = Field(default=0.5, gt=0, description="tick; firing delay is at most about this")
    interprovince_file_topics: tuple[str, ...] = Field(
        default=(INTERPROVINCE_FILE.name,),
        description="where other provinces' status files arrive, e.g. national.hn.interprovince.file.v1",
    )
    school_directory_file: Path | None = Field(
        default=None,
        description="the province's school directory (CSV with 学校代码/code and 学校名称/name columns, or JSON "
        "[{code, name}]): the names operators read instead of bare codes, published at GET /v1/schools",
    )
