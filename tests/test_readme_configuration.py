"""Every environment variable a service reads is documented in README.md, "Configuration", by its full name."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from xueji_dedupe.settings import DedupeSettings
from xueji_kit.settings import ServiceSettings
from xueji_notify.settings import NotifySettings
from xueji_registry.settings import RegistrySettings
from xueji_transfer.settings import TransferSettings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
NOT_CONFIGURABLE = {"service_name"}  # fixed per service image


def variables(settings: type[BaseSettings]) -> list[str]:
    """The name each field is read from: its first alias (KAFKA_BOOTSTRAP_SERVERS) or the prefixed field name."""
    prefix = settings.model_config.get("env_prefix", "")
    names = []
    for name, field in settings.model_fields.items():
        if name in NOT_CONFIGURABLE:
            continue
        alias = field.validation_alias
        names.append(str(alias.choices[0]) if isinstance(alias, AliasChoices) else f"{prefix}{name}".upper())
    return names


@pytest.mark.parametrize(
    "settings", [ServiceSettings, RegistrySettings, TransferSettings, DedupeSettings, NotifySettings]
)
def test_every_setting_is_documented_by_its_full_name(settings: type[BaseSettings]) -> None:
    missing = [v for v in variables(settings) if f"`{v}`" not in README]
    assert not missing, f"README.md does not document {missing} ({settings.__name__})"
