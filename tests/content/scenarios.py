"""Run a content file's query over rows, with duckdb-kql standing in for Log Analytics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tests.content.engine import connect, run
from tests.content.texts import HUNTING, RULES, load_yaml
from tests.kql import table_schemas

Rows = Mapping[str, Sequence[Mapping[str, Any]]]


def rule_path(name: str) -> Path:
    """An analytic rule's (or hunting query's) file by its stem."""
    path = RULES / f"{name}.yaml"
    return path if path.exists() else HUNTING / f"{name}.yaml"


def rule_query(name: str) -> str:
    """The rule's query as the file holds it."""
    query: str = load_yaml(rule_path(name))["query"]
    return query


def fire(name: str, rows: Rows, query: str | None = None) -> list[dict[str, Any]]:
    """What the rule's query returns over these rows (a Sentinel alert per result row)."""
    con = connect(table_schemas(), rows)
    try:
        return run(con, query if query is not None else rule_query(name))
    finally:
        con.close()
