"""Type-check the Bicep under an ``infra/`` folder against the vendored bicep-types-az types.

What the Bicep compiler would reject, found without it: a resource type or API version that is
not known (or not vendored: the message says how to add it), a property name that the type
does not have (at any depth, also in ``for`` bodies and both branches of ``?:``), a read-only
property that is set, a required property that is missing from an object literal, a literal
outside a strict enum (also a parameter's ``@allowed`` values), a read such as
``storage.properties.primaryEndpoints.blob`` through a property the type does not have, a
module parameter the module does not declare or a required one not passed, a module output it
does not declare, and a table schema (``tables/*.json``) or its DCR stream that the table and
DCR types do not accept.

pycep-parser gives identifiers and string literals alike as plain strings: a string that names
a parameter, variable, resource, module or loop variable in scope is read as that reference,
anything else as a literal. Values the checker cannot evaluate (function calls, parameters
without ``@allowed``) are accepted, as the compiler would until deploy time.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.infra import azure_types as az
from tests.infra.bicep import Tree, parse, unwrap
from tests.infra.typecheck_values import (
    Scope,
    check_value,
    is_loop,
    match_property,
    object_member,
    pycep_node,
)

BICEP_ONLY = {"parent", "scope", "dependsOn"}
INTERPOLATION = re.compile(r"\$\{\s*([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)\s*\}")


def _check_resource(symbol: str, declaration: Tree, scope: Scope) -> None:
    type_name = declaration["type"]
    version = declaration["api_version"]
    body_ref = az.resource_body(type_name, version)
    if body_ref is None:
        scope.report(f"resource {symbol}", az.how_to_vendor(type_name, version))
        return
    if declaration.get("existing"):
        return
    body, loop, _ = unwrap(declaration["config"])
    if loop is not None:
        scope.loops.add(loop["detail"]["item_name"])
    checked = {key: member for key, member in body.items() if key not in BICEP_ONLY}
    check_value(checked, body_ref, f"resource {symbol}", scope, complete=True)


def _read_chain(expression: Any) -> list[str]:
    """``a.b.c`` (also ``a[i].b.c``) as ``["a", "b", "c"]``; else ``[]``."""
    if isinstance(expression, str):
        return [expression]
    operator = pycep_node(expression, "operator")
    if operator is None:
        return []
    operands = operator["operands"]
    if operator["type"] == "index_accessor" and isinstance(operands["operand_1"], str):
        return [operands["operand_1"]]
    if operator["type"] != "property_accessor":
        return []
    head = _read_chain(operands["operand_1"])
    tail = _read_chain(operands["operand_2"])
    return [*head, *tail] if head and tail else []


def _check_read(chain: list[str], scope: Scope) -> None:
    """A read through a resource's properties or a module's outputs names what they have."""
    symbol, *path = chain
    where = f"read {'.'.join(chain)}"
    if symbol in scope.section("modules") and path:
        outputs = parse(_module_file(symbol, scope)).get("outputs", {})
        if path[0] != "outputs" or len(path) < 2 or path[1] not in outputs:
            scope.report(where, f"the module declares outputs {sorted(outputs)}")
        return
    if symbol not in scope.section("resources") or symbol in scope.loops:
        return
    declaration = scope.section("resources")[symbol]
    ref = az.resource_body(declaration["type"], declaration["api_version"])
    for step in path:
        if ref is None:
            return
        ref = object_member(ref)
        properties = az.object_properties(ref)
        if ref.kind not in ("ObjectType", "DiscriminatedObjectType") or (
            "additionalProperties" in ref.node
        ):
            return
        declared = match_property(step, properties)
        if declared != step:
            scope.report(where, f"'{step}' is not a property (known: {sorted(properties)})")
            return
        ref = ref.follow(properties[declared]["type"])


def _reads(value: Any) -> list[list[str]]:
    """Every ``symbol.a.b`` read in a parsed value, also inside interpolated strings."""
    if isinstance(value, str):
        return [m.group(1).split(".") for m in INTERPOLATION.finditer(value)]
    if isinstance(value, list):
        return [chain for item in value for chain in _reads(item)]
    if not isinstance(value, dict):
        return []
    operator = pycep_node(value, "operator")
    if operator is not None and operator["type"] == "property_accessor":
        chain = _read_chain(value)
        if len(chain) > 1:
            return [chain]
    return [chain for member in value.values() for chain in _reads(member)]


def _module_file(symbol: str, scope: Scope) -> Path:
    relative: str = scope.section("modules")[symbol]["detail"]["path"]
    return scope.file.parent / relative


def _check_module(symbol: str, declaration: Tree, scope: Scope) -> None:
    target = _module_file(symbol, scope)
    where = f"module {symbol}"
    if not target.exists():
        scope.report(where, f"{target.name} does not exist")
        return
    declared = parse(target).get("parameters", {})
    body, loop, _ = unwrap(declaration["config"])
    if loop is not None:
        scope.loops.add(loop["detail"]["item_name"])
    given = body.get("params", {})
    for name, value in given.items():
        if name not in declared:
            scope.report(f"{where}.params.{name}", f"{target.name} declares no such parameter")
            continue
        kind = _kind(value, scope)
        if kind is not None and kind != declared[name]["type"]:
            problem = f"{target.name} declares {declared[name]['type']}, given {kind}"
            scope.report(f"{where}.params.{name}", problem)
        for decorator in declared[name]["decorators"]:
            literal = isinstance(value, str) and not scope.is_reference(value)
            if decorator["type"] == "allowed" and literal and value not in decorator["argument"]:
                scope.report(f"{where}.params.{name}", f"'{value}' is not @allowed")
    for name, parameter in declared.items():
        if parameter.get("default") is None and name not in given:
            scope.report(where, f"required parameter '{name}' of {target.name} is not passed")


def _kind(value: Any, scope: Scope) -> str | None:
    """The Bicep type of a literal or of a parameter in scope; None when it takes evaluating."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, list) or is_loop(value):
        return "array"
    if isinstance(value, str):
        parameter = scope.section("parameters").get(value)
        if parameter is not None:
            kind: str = parameter["type"]
            return kind
        return None if scope.is_reference(value) else "string"
    expression = pycep_node(value, "operator") or pycep_node(value, "function")
    return "object" if isinstance(value, dict) and expression is None else None


def check_file(path: Path) -> list[str]:
    """Every problem in one Bicep file."""
    scope = Scope(path, parse(path))
    for symbol, declaration in scope.section("resources").items():
        _check_resource(symbol, declaration, scope)
    for symbol, declaration in scope.section("modules").items():
        _check_module(symbol, declaration, scope)
    for chain in _reads(scope.tree):
        _check_read(chain, scope)
    return scope.problems


def check_tables(infra: Path) -> list[str]:
    """Each ``tables/*.json`` as the table type's ``schema``, and its stream as the DCR's."""
    table_type = _used_type(infra, "Microsoft.OperationalInsights/workspaces/tables")
    dcr_type = _used_type(infra, "Microsoft.Insights/dataCollectionRules")
    if table_type is None or dcr_type is None:
        return []  # reported with the resource
    schema_ref = _property(_property(table_type, "properties"), "schema")
    declarations = _property(_property(dcr_type, "properties"), "streamDeclarations")
    stream_ref = declarations.follow(declarations.node["additionalProperties"])
    problems: list[str] = []
    for path in sorted((infra / "tables").glob("*.json")):
        table = json.loads(path.read_text(encoding="utf-8"))
        scope = Scope(path, {}, problems=problems)
        check_value(table, schema_ref, "schema", scope, complete=True)
        columns = [{"name": c["name"], "type": c["type"]} for c in table.get("columns", [])]
        check_value({"columns": columns}, stream_ref, "stream", scope, complete=True)
    return problems


def _used_type(infra: Path, type_name: str) -> az.TypeRef | None:
    """The body type of ``type_name`` at the API version the templates use it."""
    for path in sorted(infra.rglob("*.bicep")):
        for declaration in parse(path).get("resources", {}).values():
            if declaration["type"] == type_name:
                return az.resource_body(type_name, declaration["api_version"])
    return None


def _property(ref: az.TypeRef, name: str) -> az.TypeRef:
    return object_member(ref.follow(az.object_properties(ref)[name]["type"]))


def check_infra(infra: Path) -> list[str]:
    """Every problem in every ``.bicep`` file under ``infra`` and in its table schemas."""
    problems = [p for path in sorted(infra.rglob("*.bicep")) for p in check_file(path)]
    return list(dict.fromkeys(problems + check_tables(infra)))
