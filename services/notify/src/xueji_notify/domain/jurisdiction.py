"""Jurisdiction tree nodes: province -> city -> county -> school, keyed by the code prefix each level fixes.

A node key is the prefix an operator's claims give (`OperatorClaims.prefix`): "" (the Ministry),
"35" (province), "3506" (city), "350602" (county), "3506020001" (school). So "does this operator
see this node" is `node.startswith(operator.prefix)`, the same test the inbox uses.
"""

from __future__ import annotations

from enum import StrEnum

from xueji_contracts.division import Division, DivisionLevel


class NodeLevel(StrEnum):
    NATION = "nation"
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    SCHOOL = "school"


_LEVEL_BY_LENGTH = {0: NodeLevel.NATION, 2: NodeLevel.PROVINCE, 4: NodeLevel.CITY, 6: NodeLevel.COUNTY}
_PARENT_LENGTH = {10: 6, 6: 4, 4: 2, 2: 0}


def node_of(code: str) -> str:
    """The node a school or division code stands for: 350600 is the city node "3506"."""
    if len(code) == 10:
        return code
    if len(code) != 6 or not code.isdigit():
        raise ValueError(f"{code!r} is neither a 6-digit division code nor a 10-digit school code")
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def level_of(node: str) -> NodeLevel:
    if len(node) == 10:
        return NodeLevel.SCHOOL
    return _LEVEL_BY_LENGTH[len(node)]


def parent_of(node: str) -> str | None:
    """The enclosing node; None above the province (the nation has no parent)."""
    if node == "":
        return None
    return node[: _PARENT_LENGTH[len(node)]]


def ancestors(node: str) -> list[str]:
    """Every node from the nation down to `node` itself."""
    chain = [node]
    parent = parent_of(node)
    while parent is not None:
        chain.append(parent)
        parent = parent_of(parent)
    return list(reversed(chain))


def division_code(node: str) -> str:
    """The printed code of a node: "3506" -> "350600"; schools keep their 10 digits."""
    return node if len(node) == 10 else node.ljust(6, "0")


def is_node(value: str) -> bool:
    return value == "" or (value.isdigit() and len(value) in (2, 4, 6, 10))


def scopes_of(code: str) -> list[str]:
    """Every prefix an operator above `code` holds, so each level's inbox is one equality lookup. (The nation's
    prefix "" is not one of them: the Ministry has no inbox here.)"""
    division: Division | None = Division.parse(code)
    scopes = {code}
    while division is not None and division.level is not DivisionLevel.NATION:
        scopes.add(division.prefix)
        division = division.parent
    return sorted(scopes)
