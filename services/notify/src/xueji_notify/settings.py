"""Notify settings: the shared service settings with notify's name and database."""

from __future__ import annotations

from xueji_kit.settings import ServiceSettings


class NotifySettings(ServiceSettings):
    service_name: str = "notify"
