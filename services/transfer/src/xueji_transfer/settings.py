"""Transfer settings: the shared service settings with the transfer service's name and database."""

from __future__ import annotations

from xueji_kit.settings import ServiceSettings


class TransferSettings(ServiceSettings):
    service_name: str = "transfer"
