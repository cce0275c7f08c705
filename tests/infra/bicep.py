"""Reading the Bicep under ``infra/`` for the consistency tests, without a Bicep compiler.

pycep-parser turns a file into nested dicts: ``parameters``, ``variables``, ``resources``,
``modules``, ``outputs``. Expressions stay as trees (``{"function": ...}``,
``{"operator": ...}``); identifiers and string literals both come out as plain strings, and
interpolated strings keep their ``${...}`` text. So these helpers only follow the simple
shapes the templates use (a variable, ``obj.key``, ``cond ? a : b``) and the tests read the
raw text where a literal must be told apart from a reference.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pycep import BicepParser

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
TABLES_DIR = INFRA / "tables"
MAIN = INFRA / "main.bicep"
ROLE_ASSIGNMENT = "Microsoft.Authorization/roleAssignments"

Tree = dict[str, Any]


def bicep_files() -> list[Path]:
    """Every ``.bicep`` file under ``infra/``, sorted."""
    return sorted(INFRA.rglob("*.bicep"))


@cache
def parse(path: Path) -> Tree:
    """Parse one file with pycep-parser (syntax only); cached per process."""
    # BicepJson is a TypedDict; the tests read it as plain nested dicts.
    tree: Tree = dict(BicepParser().parse(file_path=path))
    return tree


def module_path(name: str) -> Path:
    """``infra/app/<name>.bicep``."""
    return INFRA / "app" / f"{name}.bicep"


def table_files() -> list[Path]:
    """Every table schema file, sorted."""
    return sorted(TABLES_DIR.glob("*.json"))


def load_table(path: Path) -> dict[str, Any]:
    """One table schema as the JSON file holds it."""
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def stream_of(table_name: str) -> str:
    """The documented rule: ``FigEvents_CL`` -> ``Custom-FigEvents``."""
    return "Custom-" + table_name.removesuffix("_CL")


@dataclass(frozen=True)
class Resource:
    """One resource declaration: where it is, its symbolic name, type, and unwrapped body."""

    file: Path
    symbol: str
    type: str
    existing: bool
    body: Tree
    loop: Tree | None
    condition: Any


def unwrap(config: Tree) -> tuple[Tree, Tree | None, Any]:
    """Return (body, loop, condition) of a resource or module ``config``."""
    loop = None
    condition = None
    if "loop_type" in config:
        loop = config["loop_type"]
        condition = config.get("condition")
        config = config["config"]
    if set(config) == {"condition", "config"}:
        condition = config["condition"]
        config = config["config"]
    return config, loop, condition


def resources(path: Path) -> list[Resource]:
    """The resources declared in one file."""
    found = []
    for symbol, declaration in parse(path).get("resources", {}).items():
        body, loop, condition = unwrap(declaration["config"])
        found.append(
            Resource(
                file=path,
                symbol=symbol,
                type=declaration["type"],
                existing=bool(declaration.get("existing")),
                body=body,
                loop=loop,
                condition=condition,
            )
        )
    return found


def all_resources() -> Iterator[Resource]:
    """The resources of every file under ``infra/``."""
    for path in bicep_files():
        yield from resources(path)


def one_resource(path: Path, resource_type: str) -> Resource:
    """The single non-``existing`` resource of ``resource_type`` in ``path``."""
    matches = [r for r in resources(path) if r.type == resource_type and not r.existing]
    assert len(matches) == 1, f"{path.name}: expected one {resource_type}, found {len(matches)}"
    return matches[0]


def variables(path: Path) -> dict[str, Any]:
    """Variable name -> parsed value, for one file."""
    return {name: v["value"] for name, v in parse(path).get("variables", {}).items()}


def resolve_strings(expression: Any, scope: dict[str, Any]) -> set[str]:
    """Every string ``expression`` can evaluate to, following variables, ``a.b`` and ``?:``.

    Plain strings that name a variable are followed; other strings are literals. Anything
    else (a function call, a parameter) resolves to no value, so the caller sees an empty set.
    """
    if isinstance(expression, str):
        if expression in scope:
            return resolve_strings(scope[expression], scope)
        return {expression}
    if isinstance(expression, dict) and "operator" in expression:
        operator = expression["operator"]
        operands = operator["operands"]
        if operator["type"] == "conditional":
            return resolve_strings(operands["true_value"], scope) | resolve_strings(
                operands["false_value"], scope
            )
        if operator["type"] == "property_accessor":
            owner = scope.get(operands["operand_1"])
            key = operands["operand_2"]
            if isinstance(owner, dict) and isinstance(key, str) and key in owner:
                return resolve_strings(owner[key], scope)
    return set()


def accessor_path(expression: Any) -> list[str]:
    """``a.b.c`` parsed as nested property accessors -> ``["a", "b", "c"]``; else ``[]``.

    An element of a resource or module loop, ``a[i]``, counts as ``a``: ``a[i].id`` -> ``["a",
    "id"]``.
    """
    if isinstance(expression, str):
        return [expression]
    if isinstance(expression, dict) and "operator" in expression:
        operator = expression["operator"]
        if operator["type"] == "index_accessor":
            return accessor_path(operator["operands"]["operand_1"])[:1]
        if operator["type"] == "property_accessor":
            head = accessor_path(operator["operands"]["operand_1"])
            tail = accessor_path(operator["operands"]["operand_2"])
            if len(head) == 1 and tail:
                return [*head, *tail]
    return []


def function_call(expression: Any, name: str) -> Tree | None:
    """The parameters of ``expression`` when it is a call to ``name`` (pycep's snake_case)."""
    if isinstance(expression, dict) and "function" in expression:
        function = expression["function"]
        if function["type"] == name:
            parameters: Tree = function["parameters"]
            return parameters
    return None


def walk(value: Any) -> Iterator[Any]:
    """Every node of a parsed value, depth first."""
    yield value
    if isinstance(value, dict):
        for child in value.values():
            yield from walk(child)
    elif isinstance(value, list):
        for child in value:
            yield from walk(child)
