"""Dedupe settings: the shared service settings with the dedupe service's name and database."""

from __future__ import annotations

from xueji_kit.settings import ServiceSettings


class DedupeSettings(ServiceSettings):
    service_name: str = "dedupe"
