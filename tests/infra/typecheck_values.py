"""The value half of the Bicep type check: one parsed Bicep value against one type.

See ``tests/infra/typecheck.py`` for what is checked and how pycep's output is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.infra import azure_types as az
from tests.infra.bicep import Tree


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


def pycep_node(value: Any, kind: str) -> Tree | None:
    """The inside of a pycep ``{"operator": {...}}`` or ``{"function": {...}}`` node, or None
    (an object literal may have a property named ``operator`` too)."""
    if isinstance(value, dict) and set(value) == {kind} and isinstance(value[kind], dict):
        inner: Tree = value[kind]
        return inner if "type" in inner else None
    return None


def is_loop(value: Any) -> bool:
    """Whether a parsed value is a ``[for ...: ...]`` expression."""
    return isinstance(value, dict) and set(value) == {"loop_type", "condition", "config"}


def _key(raw: str) -> str:
    return raw[1:-1] if len(raw) >= 2 and raw[0] == raw[-1] == "'" else raw


def match_property(name: str, properties: dict[str, az.Node]) -> str | None:
    """The declared property ``name`` is, ignoring case; None when there is none."""
    lowered = {declared.lower(): declared for declared in properties}
    return lowered.get(name.lower())


def object_member(ref: az.TypeRef) -> az.TypeRef:
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
    ref = object_member(ref)
    if value is None or ref.kind == "AnyType":
        return
    if isinstance(value, str):
        _check_string(value, ref, where, scope)
    elif isinstance(value, list):
        if ref.kind == "ArrayType":
            for position, item in enumerate(value):
                item_ref = ref.follow(ref.node["itemType"])
                check_value(item, item_ref, f"{where}[{position}]", scope, complete=complete)
    elif is_loop(value):
        if ref.kind == "ArrayType":
            scope.loops.add(value["loop_type"]["detail"]["item_name"])
            item_ref = ref.follow(ref.node["itemType"])
            check_value(value["config"], item_ref, f"{where}[for]", scope, complete=complete)
    elif (operator := pycep_node(value, "operator")) is not None:
        if operator["type"] == "conditional":
            for branch in ("true_value", "false_value"):
                branch_value = operator["operands"][branch]
                check_value(branch_value, ref, where, scope, complete=complete)
    elif (function := pycep_node(value, "function")) is not None:
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
        declared = match_property(name, properties)
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
