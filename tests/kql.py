"""Compile KQL with Microsoft's Kusto language service, from Python.

The compiler is npm ``@kusto/language-service-next`` (MIT), run by ``tools/kql/check.js``
in Node: one process compiles a whole batch, so a test session starts Node once.

    errors = compile_errors('FigEvents_CL | where Success == false', table_schemas())

Table schemas come from ``infra/tables/*.json`` (the bridge's tables, the one source of
truth) and ``tools/kql/tables/*.json`` (published schemas of standard tables, vendored;
see the README there). Diagnostics carry 1-based lines and columns of the text compiled.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CHECKER = REPO / "tools" / "kql" / "check.js"
TABLE_DIRS = (REPO / "infra" / "tables", REPO / "tools" / "kql" / "tables")

Schema = Sequence[tuple[str, str]]
"""A table's columns, in order: (name, KQL type)."""


@dataclass(frozen=True)
class Diagnostic:
    """One compiler message; ``line`` and ``column`` are 1-based in the text compiled."""

    severity: str
    code: str
    message: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.line}:{self.column}: {self.code} {self.message}"


@dataclass(frozen=True)
class Function:
    """A stored function the text may call, e.g. an ASIM parser (parameters in parentheses)."""

    name: str
    parameters: str
    body: str


@dataclass(frozen=True)
class Job:
    """One text to compile against these tables and functions."""

    text: str
    tables: Mapping[str, Schema]
    functions: Sequence[Function] = field(default_factory=tuple)


class CheckerUnavailable(RuntimeError):
    """Node or the npm package is missing (run ``npm ci``)."""


def load_schema(path: Path) -> tuple[str, Schema]:
    """A table schema file (``{"name": ..., "columns": [{"name", "type"}]}``)."""
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    columns = tuple((str(c["name"]), str(c["type"])) for c in document["columns"])
    return str(document["name"]), columns


@cache
def table_schemas() -> Mapping[str, Schema]:
    """Every table the repository's KQL may read: the bridge's and the vendored ones."""
    schemas: dict[str, Schema] = {}
    for directory in TABLE_DIRS:
        for path in sorted(directory.glob("*.json")):
            name, columns = load_schema(path)
            schemas[name] = columns
    return schemas


def compile_all(jobs: Sequence[Job]) -> list[list[Diagnostic]]:
    """Every diagnostic (errors and warnings) of each job, in one Node run."""
    if not jobs:
        return []
    node = shutil.which("node")
    if node is None:
        raise CheckerUnavailable("node is not on PATH")
    request = {
        "jobs": [
            {
                "text": job.text,
                "tables": {name: [list(c) for c in cols] for name, cols in job.tables.items()},
                "functions": [
                    {"name": f.name, "parameters": f.parameters, "body": f.body}
                    for f in job.functions
                ],
            }
            for job in jobs
        ]
    }
    completed = subprocess.run(
        [node, str(CHECKER)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=REPO,
    )
    if completed.returncode != 0:
        raise CheckerUnavailable(f"{CHECKER.name} failed: {completed.stderr[-2000:]}")
    results: list[list[dict[str, Any]]] = json.loads(completed.stdout)
    return [[Diagnostic(**d) for d in diagnostics] for diagnostics in results]


def errors_only(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    """The diagnostics that make a query fail (severity Error)."""
    return [d for d in diagnostics if d.severity == "Error"]


def compile_errors(
    query: str, tables: Mapping[str, Schema], functions: Sequence[Function] = ()
) -> list[Diagnostic]:
    """The errors of one query (unknown names, wrong types, syntax); empty when it compiles.

    For many texts use :func:`compile_all`: it starts Node once for all of them.
    """
    return errors_only(compile_all([Job(query, tables, functions)])[0])
