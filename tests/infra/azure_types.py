"""The resource types the Bicep compiler knows, read from vendored bicep-types-az files.

``tests/infra/types/generated/**/types.json`` are copies of Azure/bicep-types-az's
``generated/`` files (MIT; commit and list in ``tests/infra/types/README.md``). Each file is a
JSON array of type nodes that refer to each other as ``{"$ref": "#/<index>"}``; a
``ResourceType`` node names ``Type@version`` and points at its body (an ``ObjectType`` or a
``DiscriminatedObjectType``). Property ``flags`` are bits: 1 required, 2 read-only,
4 write-only, 8 deploy-time constant, 16 identifier.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

TYPES_DIR = Path(__file__).resolve().parent / "types"
GENERATED = TYPES_DIR / "generated"
UPSTREAM = "https://github.com/Azure/bicep-types-az"

REQUIRED = 1
READ_ONLY = 2

Node = dict[str, Any]


@dataclass(frozen=True)
class TypeRef:
    """A node of one types.json file: the file's node list and the node's index."""

    nodes: tuple[Node, ...]
    index: int

    @property
    def node(self) -> Node:
        """The node itself."""
        return self.nodes[self.index]

    @property
    def kind(self) -> str:
        """``ObjectType``, ``StringLiteralType``, ``UnionType``, ... (the node's ``$type``)."""
        kind: str = self.node["$type"]
        return kind

    def follow(self, reference: Node) -> TypeRef:
        """The node a ``{"$ref": "#/<n>"}`` in this file points at."""
        return TypeRef(self.nodes, int(reference["$ref"].removeprefix("#/")))


@cache
def _load(path: Path) -> tuple[Node, ...]:
    nodes: list[Node] = json.loads(path.read_text(encoding="utf-8"))
    return tuple(nodes)


def vendored_files() -> list[Path]:
    """Every vendored types.json, sorted."""
    return sorted(GENERATED.rglob("types.json"))


@cache
def resource_index() -> dict[str, TypeRef]:
    """``type@version`` in lower case -> the ``ResourceType`` node that declares it."""
    index: dict[str, TypeRef] = {}
    for path in vendored_files():
        nodes = _load(path)
        for position, node in enumerate(nodes):
            if node["$type"] == "ResourceType":
                index[node["name"].lower()] = TypeRef(nodes, position)
    return index


def resource_body(type_name: str, api_version: str) -> TypeRef | None:
    """The body type of ``type_name@api_version``, or None when it is not vendored."""
    found = resource_index().get(f"{type_name}@{api_version}".lower())
    return None if found is None else found.follow(found.node["body"])


def vendored_versions(type_name: str) -> list[str]:
    """The API versions of ``type_name`` that are vendored, sorted."""
    prefix = f"{type_name.lower()}@"
    return sorted(key.removeprefix(prefix) for key in resource_index() if key.startswith(prefix))


def how_to_vendor(type_name: str, api_version: str) -> str:
    """The message for a resource whose type and API version are not vendored."""
    namespace = type_name.split("/")[0].lower()
    known = vendored_versions(type_name)
    return (
        f"{type_name}@{api_version} is not in the vendored Bicep types"
        f" (vendored versions: {', '.join(known) or 'none'}). To add it: find"
        f" generated/<folder>/{namespace}/{api_version}/types.json in {UPSTREAM} (generated/"
        f"index.md names the folder), copy it to tests/infra/types/generated/ under the same"
        f" path, and list it in tests/infra/types/README.md with the upstream commit."
    )


def literal_values(ref: TypeRef) -> set[str] | None:
    """The allowed strings when ``ref`` is a strict enum; None when any string is accepted."""
    if ref.kind == "StringLiteralType":
        return {ref.node["value"]}
    if ref.kind != "UnionType":
        return None
    values: set[str] = set()
    for element in ref.node["elements"]:
        member = literal_values(ref.follow(element))
        if member is None:
            return None
        values |= member
    return values


def object_properties(ref: TypeRef, discriminator_value: str | None = None) -> dict[str, Node]:
    """The properties of an object type; of a discriminated one, its base plus the chosen
    element's (or every element's when the discriminator is not a literal)."""
    if ref.kind == "ObjectType":
        properties: dict[str, Node] = ref.node.get("properties", {})
        return properties
    if ref.kind != "DiscriminatedObjectType":
        return {}
    merged = dict(ref.node.get("baseProperties", {}))
    elements: dict[str, Node] = ref.node["elements"]
    chosen = (
        [elements[discriminator_value]]
        if discriminator_value in elements
        else list(elements.values())
    )
    for element in chosen:
        merged.update(object_properties(ref.follow(element)))
    return merged
