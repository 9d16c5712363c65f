"""Registry settings: the shared service settings with the registry's name and database."""

from __future__ import annotations

from xueji_kit.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    service_name: str = "registry"
