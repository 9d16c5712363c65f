"""Every service has the same layout (issue 17): `domain/`, `handlers/` and `api/` packages and an `app.py`, and its
HTTP routes live in `api/` only, so a newcomer who knows one service finds a route, a handler or a rule in any other
at the same place."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("registry", "transfer", "dedupe", "notify")
PACKAGES = ("domain", "handlers", "api")
ROUTE_DECORATORS = {"get", "post", "put", "patch", "delete", "head", "options", "api_route", "route", "websocket"}
ROUTE_CALLS = {"add_api_route", "add_route", "add_websocket_route", "add_api_websocket_route", "include_router"}
# The object routes and handlers share, reached as request.app.state.<name>: every service has one now.
WITHOUT_SERVICE_OBJECT: set[str] = set()


def _source(service: str) -> Path:
    return ROOT / "services" / service / "src" / f"xueji_{service}"


def route_definitions(source: str) -> list[str]:
    """Where a module defines HTTP routes: an APIRouter, a route decorator on any object, or a route added by call."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in {"fastapi", "starlette"}:
            found += [f"{node.lineno}: imports {a.name}" for a in node.names if a.name in {"APIRouter", "Router"}]
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for deco in node.decorator_list:
                target = deco.func if isinstance(deco, ast.Call) else deco
                if isinstance(target, ast.Attribute) and target.attr in ROUTE_DECORATORS:
                    found.append(f"{deco.lineno}: @{ast.unparse(target)}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ROUTE_CALLS:
            found.append(f"{node.lineno}: {ast.unparse(node.func)}(...)")
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_has_domain_handlers_api_packages_and_an_app(service: str) -> None:
    source = _source(service)
    missing = [f"{p}/__init__.py" for p in PACKAGES if not (source / p / "__init__.py").is_file()]
    missing += [] if (source / "app.py").is_file() else ["app.py"]
    assert not missing, f"{service} lacks {missing}"


@pytest.mark.parametrize("service", SERVICES)
def test_no_module_outside_api_defines_routes(service: str) -> None:
    source = _source(service)
    found = [
        f"{path.relative_to(ROOT)}:{where}"
        for path in sorted(source.rglob("*.py"))
        if "api" not in path.relative_to(source).parts[:1]
        for where in route_definitions(path.read_text())
    ]
    assert not found, "routes belong in api/:\n" + "\n".join(found)


def test_the_services_without_a_service_object_are_the_known_ones() -> None:
    without = {s for s in SERVICES if not (_source(s) / "service.py").is_file()}
    assert without == WITHOUT_SERVICE_OBJECT


def test_the_route_check_finds_routes() -> None:
    assert route_definitions("from fastapi import APIRouter\n")
    assert route_definitions("@app.get('/x')\nasync def x() -> None: ...\n")
    assert route_definitions("@router.post('/x', summary='s')\ndef x() -> None: ...\n")
    assert route_definitions("app.add_api_route('/x', x)\n")
    assert route_definitions("app.include_router(router)\n")
    assert not route_definitions("from fastapi import FastAPI, Request\n@cache\ndef x() -> None: ...\n")
    assert not route_definitions("value = settings.get('x')\n")
