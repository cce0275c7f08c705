"""The layering holds: no import cycles, pure packages stay pure, blueprints import only the root.

Every module's imports are read with :mod:`ast`, so an import inside a function or under
``TYPE_CHECKING`` counts as much as one at the top: hiding a cycle does not break it. The
rules are data (``PURE``, ``ONLY``): a rule naming a package that does not exist yet is
skipped, so a package's rule can be written before the package.
"""

from __future__ import annotations

import ast
import functools
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
ROOTS = ("shared", "blueprints", "local")

# Pure packages: what none of their modules may import, directly or through another module.
IMPURE = ("azure", "shared.adapters", "shared.bootstrap")
PURE: Mapping[str, Sequence[str]] = {
    "shared.delivery": IMPURE,
    "shared.rows": IMPURE,
    "shared.config": IMPURE,
    "shared.incidents.domain": IMPURE,
    "shared.sources": IMPURE,
    "shared.auth": IMPURE,
}
# Edge packages: all that their modules may import beyond the standard library and themselves.
ONLY: Mapping[str, Sequence[str]] = {
    "blueprints": ("azure.functions", "blueprints", "shared.bootstrap", "shared.inbound.pipeline"),
}

Graph = dict[str, set[str]]


def module_name(path: Path, base: Path) -> str:
    """``shared/x/__init__.py`` -> ``shared.x``; ``shared/x/y.py`` -> ``shared.x.y``."""
    parts = list(path.relative_to(base).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_names(source: str, module: str, *, is_package: bool) -> set[str]:
    """Every dotted name ``module`` imports, wherever the import statement stands.

    ``from a import b`` yields ``a.b``; :func:`resolve` finds the module (``a.b`` or ``a``).
    """
    names: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, node.module] if node.module else anchor)
            else:
                base = node.module or ""
            # ``from a import b`` loads a.b when that is a module, else it reads a name of a.
            names.update(
                base if alias.name == "*" else f"{base}.{alias.name}" for alias in node.names
            )
    return names


def read_imports(base: Path, roots: Iterable[str]) -> dict[str, set[str]]:
    """Each module under ``roots`` and the dotted names it imports."""
    imports: dict[str, set[str]] = {}
    for root in roots:
        for path in sorted((base / root).rglob("*.py")):
            name = module_name(path, base)
            source = path.read_text(encoding="utf-8")
            imports[name] = imported_names(source, name, is_package=path.name == "__init__.py")
    return imports


def resolve(name: str, modules: Iterable[str]) -> str | None:
    """The most specific known module that ``name`` is or lies in (``a.b.func`` -> ``a.b``)."""
    known = set(modules)
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def internal_graph(imports: Mapping[str, set[str]]) -> Graph:
    """Module -> the modules of the tree it imports (its own package excluded)."""
    graph: Graph = {}
    for module, names in imports.items():
        targets = {resolve(name, imports) for name in names}
        graph[module] = {t for t in targets if t is not None and t != module}
    return graph


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(graph) + 100))
    try:
        for node in sorted(graph):
            if node not in index:
                visit(node)
    finally:
        sys.setrecursionlimit(limit)
    return sorted(found)


def within(name: str, prefix: str) -> bool:
    """Whether ``name`` is ``prefix`` or a module inside it."""
    return name == prefix or name.startswith(prefix + ".")


def forbidden_paths(
    imports: Mapping[str, set[str]], package: str, forbidden: Sequence[str]
) -> list[list[str]]:
    """Import chains from a module of ``package`` to a forbidden name, through the tree."""
    graph = internal_graph(imports)
    chains: list[list[str]] = []
    for start in sorted(m for m in imports if within(m, package)):
        seen = {start}
        frontier = [[start]]
        while frontier:
            chain = frontier.pop(0)
            bad = sorted(
                n for n in imports[chain[-1]] if any(within(n, prefix) for prefix in forbidden)
            )
            if bad:
                chains.append([*chain, bad[0]])
                break
            for target in sorted(graph[chain[-1]] - seen):
                seen.add(target)
                frontier.append([*chain, target])
    return chains


def outside(imports: Mapping[str, set[str]], package: str, allowed: Sequence[str]) -> list[str]:
    """``module -> name`` for each import of ``package`` that is neither stdlib nor allowed."""
    found: set[str] = set()
    for module in (m for m in imports if within(m, package)):
        for name in imports[module]:
            top = name.partition(".")[0]
            if top in sys.stdlib_module_names or top == "__future__":
                continue
            if not any(within(name, prefix) for prefix in allowed):
                # ``from a import b`` names a and a.b: report the module, not each name.
                found.add(f"{module} -> {resolve(name, imports) or top}")
    return sorted(found)


@functools.cache
def project_imports() -> dict[str, set[str]]:
    """The imports of every module in ``ROOTS``, read once per run."""
    return read_imports(REPO_ROOT, ROOTS)


def exists(package: str) -> bool:
    return package in project_imports()


@pytest.mark.parametrize("area", [("local",), ("shared", "blueprints")], ids="-".join)
def test_no_import_cycles(area: tuple[str, ...]) -> None:
    """No module reaches itself again through its imports, hidden or not."""
    found = [
        component
        for component in cycles(internal_graph(project_imports()))
        if any(within(m, root) for m in component for root in area)
    ]
    assert found == [], "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


@pytest.mark.parametrize(("package", "forbidden"), sorted(PURE.items()))
def test_pure_packages_import_no_adapter(package: str, forbidden: Sequence[str]) -> None:
    """A pure package loads no SDK, adapter or composition root, not even indirectly."""
    if not exists(package):
        pytest.skip(f"{package} does not exist yet")
    chains = forbidden_paths(project_imports(), package, forbidden)
    assert chains == [], "\n".join(" -> ".join(chain) for chain in chains)


@pytest.mark.parametrize(("package", "allowed"), sorted(ONLY.items()))
def test_packages_import_only_what_they_may(package: str, allowed: Sequence[str]) -> None:
    """Blueprints import the composition root and the request pipeline, nothing else."""
    missing = [p for p in allowed if p.partition(".")[0] in ROOTS and not exists(p)]
    if missing or not exists(package):
        pytest.skip(f"{', '.join(missing) or package} does not exist yet")
    assert outside(project_imports(), package, allowed) == []


# -- the checker itself --------------------------------------------------------------------


def write_tree(base: Path, files: Mapping[str, str]) -> None:
    for relative, text in files.items():
        path = base / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_cycles_behind_type_checking_and_in_functions_are_found(tmp_path: Path) -> None:
    """A cycle hidden under TYPE_CHECKING or inside a function is still a cycle."""
    write_tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.b import B\n"
            ),
            "pkg/b.py": "def f():\n    from . import c\n",
            "pkg/c.py": "import pkg.a\n",
            "pkg/d.py": "from pkg import a\n",
        },
    )
    graph = internal_graph(read_imports(tmp_path, ["pkg"]))
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.c"]]


def test_relative_imports_resolve_from_their_package(tmp_path: Path) -> None:
    """``from ..x import y`` in a sub-package names the parent package's module."""
    write_tree(
        tmp_path,
        {
            "pkg/__init__.py": "from .sub import thing\n",
            "pkg/x.py": "",
            "pkg/sub/__init__.py": "from ..x import y\nthing = 1\n",
        },
    )
    graph = internal_graph(read_imports(tmp_path, ["pkg"]))
    assert graph == {"pkg": {"pkg.sub"}, "pkg.x": set(), "pkg.sub": {"pkg.x"}}


def test_a_pure_package_reaching_an_sdk_indirectly_is_reported(tmp_path: Path) -> None:
    """The chain from the pure module to the forbidden import is named."""
    write_tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/pure/__init__.py": "from pkg import helper\n",
            "pkg/helper.py": "import json\nfrom azure.core import exceptions\n",
        },
    )
    imports = read_imports(tmp_path, ["pkg"])
    assert forbidden_paths(imports, "pkg.pure", ["azure"]) == [
        ["pkg.pure", "pkg.helper", "azure.core.exceptions"]
    ]
    assert outside(imports, "pkg.helper", ["pkg"]) == ["pkg.helper -> azure"]
