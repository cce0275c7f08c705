"""Every KQL text in the repository, with the file and line it starts on.

The texts: analytic rules, hunting queries and ASIM parsers (``content/**/*.yaml``), the
workbook's queries (``content/workbooks/*.json``), the DCR transforms (``transformKql`` in
``infra/**/*.bicep``) and the ```kql blocks of README.md and docs/**.md (one query per
paragraph). ``tests/content/test_kql_compiles.py`` compiles them all; the migration issue
can reuse :func:`all_texts` and :func:`jobs`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from local import legacy
from tests.kql import Function, Job, Schema, table_schemas

REPO = Path(__file__).resolve().parents[2]
CONTENT = REPO / "content"
RULES = CONTENT / "analytic-rules"
HUNTING = CONTENT / "hunting-queries"
PARSERS = CONTENT / "parsers"
WORKBOOKS = CONTENT / "workbooks"

# What a workbook substitutes for its parameters, for compiling (any valid value will do).
WORKBOOK_PARAMETERS = {"Source": "fig", "TimeRange:grain": "1h"}
_PLACEHOLDER = re.compile(r"\{([A-Za-z]\w*(?::\w+)?)\}")
_TRANSFORM = re.compile(r"transformKql:\s*'((?:[^'\\]|\\.)*)'")
_FENCE = re.compile(r"^```(kql|kusto)\s*$")


@dataclass(frozen=True)
class KqlText:
    """One KQL text: where it is (``origin`` path, 1-based ``line`` of its first line)."""

    origin: str
    line: int
    text: str
    kind: str
    functions: Sequence[Function] = field(default_factory=tuple)
    extra_tables: Mapping[str, Schema] = field(default_factory=dict)
    line_offset: int = 0
    """Lines the compiled text has before the original's first line (a declare statement)."""

    @property
    def where(self) -> str:
        return f"{self.origin}:{self.line}"

    def job(self) -> Job:
        return Job(self.text, {**table_schemas(), **self.extra_tables}, self.functions)

    def location(self, line: int, column: int) -> str:
        """A diagnostic's place in the file: ``path:line:column``."""
        return f"{self.origin}:{self.line + line - 1 - self.line_offset}:{column}"


def load_yaml(path: Path) -> dict[str, Any]:
    """A content YAML file as a mapping."""
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document


def _relative(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def _key_line(path: Path, key: str) -> int:
    """The 1-based line after ``key: |`` (where a block scalar's text starts)."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith(f"{key}:"):
            return number + 1
    raise ValueError(f"{_relative(path)} has no {key}")


def rule_files() -> list[Path]:
    """Analytic rules and hunting queries."""
    return sorted(RULES.glob("*.yaml")) + sorted(HUNTING.glob("*.yaml"))


def parser_files() -> list[Path]:
    """ASIM parsers."""
    return sorted(PARSERS.glob("*.yaml"))


def workbook_files() -> list[Path]:
    """Workbooks."""
    return sorted(WORKBOOKS.glob("*.json"))


def parameter_list(parser: Mapping[str, Any]) -> str:
    """A parser's parameters as KQL declares them: ``a:datetime=datetime(null), ...``."""
    return ", ".join(f"{p['Name']}:{p['Type']}={p['Default']}" for p in parser["ParserParams"])


@cache
def parser_functions() -> tuple[Function, ...]:
    """Each parser as the workspace function it is deployed as."""
    functions = []
    for path in parser_files():
        parser = load_yaml(path)
        body = "{\n" + parser["ParserQuery"] + "\n}"
        functions.append(Function(parser["ParserName"], f"({parameter_list(parser)})", body))
    return tuple(functions)


def _rules() -> Iterator[KqlText]:
    for path in rule_files():
        yield KqlText(_relative(path), _key_line(path, "query"), load_yaml(path)["query"], "rule")


def _parsers() -> Iterator[KqlText]:
    for path in parser_files():
        parser = load_yaml(path)
        others = tuple(f for f in parser_functions() if f.name != parser["ParserName"])
        text = f"declare query_parameters({parameter_list(parser)});\n{parser['ParserQuery']}"
        yield KqlText(
            _relative(path),
            _key_line(path, "ParserQuery"),
            text,
            "parser",
            functions=others,
            line_offset=1,
        )


def workbook_queries(workbook: Any) -> Iterator[str]:
    """Every ``query`` string in a workbook's items and parameters."""
    if isinstance(workbook, dict):
        for key, value in workbook.items():
            if key == "query" and isinstance(value, str):
                yield value
            else:
                yield from workbook_queries(value)
    elif isinstance(workbook, list):
        for item in workbook:
            yield from workbook_queries(item)


def substitute(query: str) -> str:
    """The query with its workbook parameters replaced (KeyError for an unknown one)."""
    return _PLACEHOLDER.sub(lambda m: WORKBOOK_PARAMETERS[m.group(1)], query)


def _workbooks() -> Iterator[KqlText]:
    for path in workbook_files():
        lines = path.read_text(encoding="utf-8").splitlines()
        for query in workbook_queries(json.loads("\n".join(lines))):
            encoded = json.dumps(query)
            line = next((n for n, text in enumerate(lines, start=1) if encoded in text), 1)
            yield KqlText(_relative(path), line, substitute(query), "workbook")


def _transforms() -> Iterator[KqlText]:
    schemas = table_schemas()
    tables = sorted(p.stem for p in (REPO / "infra" / "tables").glob("*.json"))
    for path in sorted((REPO / "infra").rglob("*.bicep")):
        source = path.read_text(encoding="utf-8")
        for match in _TRANSFORM.finditer(source):
            line = source.count("\n", 0, match.start()) + 1
            text = match.group(1).replace("\\'", "'")
            for table in tables:  # the transform runs on every table's stream
                yield KqlText(
                    f"{_relative(path)}",
                    line,
                    text,
                    f"transform:{table}",
                    extra_tables={"source": schemas[table]},
                )


# The documented queries of Fig's connector, as its teams run them on FigEvents_CL.
FIG_LEGACY_QUERIES = (
    'FigEvents_CL | where eventType_s == "SecurityEvent" | where success_b == false',
    'FigEvents_CL | where eventType_s == "SettingValueChanged"',
)
LEGACY_TABLES = ("FigEvents_CL", "WallarmEvents_CL")
MIGRATE_DOC = "docs/migrate.md"


def legacy_schemas(mode: legacy.Mode) -> dict[str, Schema]:
    """The legacy sources' tables after a deployment in ``mode`` (classic tables of the same
    name, the alongside tables, Wallarm's per-type classic tables)."""
    schemas: dict[str, Schema] = {}
    for table in LEGACY_TABLES:
        spec = legacy.load_legacy(table)
        destination = legacy.destination(table, mode, table)
        schemas[destination] = tuple(legacy.deployed_columns(table, mode, spec))
        if mode == "alongside":
            schemas[table] = tuple(legacy.classic_columns(spec))
        for classic in spec.per_type_tables:
            schemas[classic] = tuple(legacy.classic_columns(spec))
    return schemas


def legacy_functions(mode: legacy.Mode) -> tuple[Function, ...]:
    """The workspace functions a deployment in ``mode`` saves (with Wallarm's per-type ones)."""
    functions = []
    for table in LEGACY_TABLES:
        spec = legacy.load_legacy(table)
        destination = legacy.destination(table, mode, table)
        bodies = legacy.per_type_functions(spec, destination)
        if mode == "alongside":
            bodies[legacy.function_name(table)] = legacy.union_function(spec, table, destination)
        functions += [Function(name, "()", "{\n" + body + "\n}") for name, body in bodies.items()]
    return tuple(functions)


def _legacy() -> Iterator[KqlText]:
    """The DCR transforms, legacy functions and Fig's documented queries, in every mode."""
    schemas = table_schemas()
    for table in sorted(p.stem for p in (REPO / "infra" / "tables").glob("*.json")):
        specs = [None, legacy.load_legacy(table)] if table in LEGACY_TABLES else [None]
        for spec in specs:
            yield KqlText(
                f"infra/tables/legacy/{table}.json" if spec else "infra/app/stream.bicep",
                1,
                legacy.transform_kql(spec),
                f"transform:{table}" + (":migrate" if spec else ""),
                extra_tables={"source": schemas[table]},
            )
    for mode in legacy.MODES:
        tables = legacy_schemas(mode)
        for function in legacy_functions(mode):
            yield KqlText(
                "local/legacy.py",
                1,
                function.body[2:-2],
                f"function:{mode}:{function.name}",
                extra_tables=tables,
            )
        if mode == "new":
            continue
        functions = legacy_functions(mode)
        for number, query in enumerate(FIG_LEGACY_QUERIES):
            if mode == "alongside":
                query = query.replace("FigEvents_CL", "FigEvents", 1)
            yield KqlText(
                "tests/content/texts.py",
                number + 1,
                query,
                f"fig-query:{mode}",
                functions=functions,
                extra_tables=tables,
            )


def markdown_files() -> list[Path]:
    """README.md and every Markdown file under docs/."""
    return [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]


def _paragraphs(lines: Sequence[str], first: int) -> Iterator[tuple[int, str]]:
    """The queries of one code block: paragraphs with something besides comments."""
    start = first
    chunk: list[str] = []
    for number, line in enumerate([*lines, ""], start=first):
        if line.strip():
            if not chunk:
                start = number
            chunk.append(line)
            continue
        code = [c for c in chunk if not c.strip().startswith("//")]
        if code:
            yield start, "\n".join(chunk)
        chunk = []


def _markdown() -> Iterator[KqlText]:
    for path in markdown_files():
        lines = path.read_text(encoding="utf-8").splitlines()
        block: list[str] | None = None
        first = 0
        for number, line in enumerate(lines, start=1):
            if block is None:
                if _FENCE.match(line):
                    block, first = [], number + 1
            elif line.startswith("```"):
                for start, text in _paragraphs(block, first):
                    if _relative(path) == MIGRATE_DOC:  # legacy queries: migrated tables
                        yield KqlText(
                            _relative(path),
                            start,
                            text,
                            "markdown",
                            functions=legacy_functions("alongside"),
                            extra_tables={
                                **legacy_schemas("alongside"),
                                **legacy_schemas("migrate"),
                            },
                        )
                        continue
                    yield KqlText(_relative(path), start, text, "markdown")
                block = None
            else:
                block.append(line)


def all_texts() -> list[KqlText]:
    """Every KQL text in the repository."""
    return [*_rules(), *_parsers(), *_workbooks(), *_transforms(), *_legacy(), *_markdown()]


def jobs(texts: Sequence[KqlText]) -> list[Job]:
    """The compile jobs for these texts (``tests.kql.compile_all`` takes them)."""
    return [text.job() for text in texts]
