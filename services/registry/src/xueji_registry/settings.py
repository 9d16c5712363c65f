"""Registry settings: the shared service settings with the registry's name, database and enrollment wait."""

from __future__ import annotations

from xueji_kit.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    service_name: str = "registry"
    enrollment_wait_seconds: float = 2.0
