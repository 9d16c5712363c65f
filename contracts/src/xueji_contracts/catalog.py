"""Every message type these contracts define, by the name a message's `type` carries: what a consumer built on this
version of the contracts knows (the unknown-type policy in kit's contract_policy, docs/reliability.md)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from functools import cache

from pydantic import BaseModel

import xueji_contracts.messages as messages


@cache
def message_models() -> dict[str, type[BaseModel]]:
    """The models in `xueji_contracts.messages` by the name a message's `type` carries (with their aliases, e.g.
    ReviewDecided): what a consumer reads a known message's fields by (unknown fields are ignored on the way in)."""
    models: dict[str, type[BaseModel]] = {}
    for module_info in pkgutil.iter_modules(messages.__path__):
        module = importlib.import_module(f"{messages.__name__}.{module_info.name}")
        for name, found in vars(module).items():
            if inspect.isclass(found) and issubclass(found, BaseModel) and found.__module__ == module.__name__:
                models[name] = found
    return models


def message_types() -> frozenset[str]:
    """The names of the models in `xueji_contracts.messages` (with their aliases, e.g. ReviewDecided)."""
    return frozenset(message_models())
