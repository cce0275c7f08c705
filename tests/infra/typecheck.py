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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.infra import azure_types as az
from tests.infra.bicep import Tree, parse, unwrap

BICEP_ONLY = {"parent", "scope", "dependsOn"}
INTERPOLATION = re.compile(r"\$\{\s*([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)\s*\}")


@dataclass
class Scope:
    """One Bicep file's symbols, for resolving references and reporting problems."""

    file: Path
    tree: Tree
    loops: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)

    def report(self, where: str, message: str) -> None:
        """Record one problem, located by file and property path."""
        self.problems.append(f"{self.file.name}: {where}: {message}")

    def section(self, name: str) -> dict[str, Any]:
        """``parameters``, ``variables``, ``resources``, ``modules`` or ``outputs``."""
        found: dict[str, Any] = self.tree.get(name, {})
        return found

    def is_reference(self, text: str) -> bool:
        """Whether a plain string names something in scope rather than being a literal."""
        return text in self.loops or any(
            text in self.section(s) for s in ("parameters", "variables", "resources", "modules")
        )


def _node(value: Any, kind: str) -> Tree | None:
    """The inside of a pycep ``{"operator": {...}}`` or ``{"function": {...}}`` node, or None
    (an object literal may have a property named ``operator`` too)."""
    if isinstance(value, dict) and set(value) == {kind} and isinstance(value[kind], dict):
        inner: Tree = value[kind]
        return inner if "type" in inner else None
    return None


def _is_loop(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"loop_type", "condition", "config"}


def _key(raw: str) -> str:
    return raw[1:-1] if len(raw) >= 2 and raw[0] == raw[-1] == "'" else raw


def _match(name: str, properties: dict[str, az.Node]) -> str | None:
    """The declared property ``name`` is, ignoring case; None when there is none."""
    lowered = {declared.lower(): declared for declared in properties}
    return lowered.get(name.lower())


def _object_member(ref: az.TypeRef) -> az.TypeRef:
    """For a union of one object type and null/strings, that object type; else ``ref``."""
    if ref.kind != "UnionType":
        return ref
    objects = [
        member
        for member in (ref.follow(e) for e in ref.node["elements"])
        if member.kind in ("ObjectType", "DiscriminatedObjectType")
    ]
    return objects[0] if len(objects) == 1 else ref


def check_value(value: Any, ref: az.TypeRef, where: str, scope: Scope, *, complete: bool) -> None:
    """Check one Bicep value against a type; ``complete``: an object must hold every required
    property (false inside ``union(...)``, which may be completed by its other arguments)."""
    ref = _object_member(ref)
    if value is None or ref.kind == "AnyType":
        return
    if isinstance(value, str):
        _check_string(value, ref, where, scope)
    elif isinstance(value, list):
        if ref.kind == "ArrayType":
            for position, item in enumerate(value):
                item_ref = ref.follow(ref.node["itemType"])
                check_value(item, item_ref, f"{where}[{position}]", scope, complete=complete)
    elif _is_loop(value):
        if ref.kind == "ArrayType":
            scope.loops.add(value["loop_type"]["detail"]["item_name"])
            item_ref = ref.follow(ref.node["itemType"])
            check_value(value["config"], item_ref, f"{where}[for]", scope, complete=complete)
    elif (operator := _node(value, "operator")) is not None:
        if operator["type"] == "conditional":
            for branch in ("true_value", "false_value"):
                branch_value = operator["operands"][branch]
                check_value(branch_value, ref, where, scope, complete=complete)
    elif (function := _node(value, "function")) is not None:
        if function["type"] == "union":
            for argument in function["parameters"].values():
                check_value(argument, ref, where, scope, complete=False)
    elif isinstance(value, dict):
        _check_object(value, ref, where, scope, complete=complete)


def _check_string(value: str, ref: az.TypeRef, where: str, scope: Scope) -> None:
    if scope.is_reference(value):
        if value in scope.section("variables"):
            variable = scope.section("variables")[value]["value"]
            check_value(variable, ref, where, scope, complete=True)
        elif value in scope.section("parameters"):
            for decorator in scope.section("parameters")[value]["decorators"]:
                if decorator["type"] == "allowed":
                    for allowed in decorator["argument"]:
                        check_value(allowed, ref, f"{where} (@allowed)", scope, complete=True)
        return
    allowed_values = az.literal_values(ref)
    if "${" not in value and allowed_values is not None and value not in allowed_values:
        scope.report(where, f"'{value}' is not one of {sorted(allowed_values)}")


def _check_object(
    value: Tree, ref: az.TypeRef, where: str, scope: Scope, *, complete: bool
) -> None:
    if ref.kind not in ("ObjectType", "DiscriminatedObjectType"):
        if ref.kind in ("StringType", "StringLiteralType", "IntegerType", "BooleanType"):
            scope.report(where, f"an object where the type is {ref.kind}")
        return
    members = {_key(raw): member for raw, member in value.items()}
    discriminator = ref.node.get("discriminator")
    chosen = members.get(discriminator) if discriminator else None
    chosen_literal = chosen if isinstance(chosen, str) and not scope.is_reference(chosen) else None
    elements = ref.node.get("elements", {})
    if chosen_literal is not None and elements and chosen_literal not in elements:
        scope.report(f"{where}.{discriminator}", f"'{chosen}' is not one of {sorted(elements)}")
        return
    properties = az.object_properties(ref, chosen_literal)
    additional = ref.node.get("additionalProperties")
    for name, member in members.items():
        if "${" in name:
            continue
        declared = _match(name, properties)
        path = f"{where}.{name}"
        if declared is None:
            if additional is not None:
                check_value(member, ref.follow(additional), path, scope, complete=complete)
            else:
                scope.report(path, f"no such property (known: {', '.join(sorted(properties))})")
            continue
        if declared != name:
            scope.report(path, f"spelled '{declared}' in the type")
        flags = properties[declared].get("flags", 0)
        if flags & az.READ_ONLY:
            scope.report(path, "read-only: it cannot be set")
        member_ref = ref.follow(properties[declared]["type"])
        check_value(member, member_ref, path, scope, complete=complete)
    if complete:
        given = {name.lower() for name in members}
        for declared, prop in properties.items():
            if prop.get("flags", 0) & az.REQUIRED and declared.lower() not in given:
                scope.report(where, f"required property '{declared}' is missing")


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
    operator = _node(expression, "operator")
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
        ref = _object_member(ref)
        properties = az.object_properties(ref)
        if ref.kind not in ("ObjectType", "DiscriminatedObjectType") or (
            "additionalProperties" in ref.node
        ):
            return
        declared = _match(step, properties)
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
    operator = _node(value, "operator")
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
        for decorator in declared[name]["decorators"]:
            literal = isinstance(value, str) and not scope.is_reference(value)
            if decorator["type"] == "allowed" and literal and value not in decorator["argument"]:
                scope.report(f"{where}.params.{name}", f"'{value}' is not @allowed")
    for name, parameter in declared.items():
        if parameter.get("default") is None and name not in given:
            scope.report(where, f"required parameter '{name}' of {target.name} is not passed")


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
    return _object_member(ref.follow(az.object_properties(ref)[name]["type"]))


def check_infra(infra: Path) -> list[str]:
    """Every problem in every ``.bicep`` file under ``infra`` and in its table schemas."""
    problems = [p for path in sorted(infra.rglob("*.bicep")) for p in check_file(path)]
    return list(dict.fromkeys(problems + check_tables(infra)))
