"""Every KQL text in the repository compiles against the table schemas.

Microsoft's Kusto language service (npm @kusto/language-service-next, run in Node by
tools/kql/check.js) compiles the rules, hunting queries, parsers, workbook queries, DCR
transforms and the ```kql blocks of README.md and docs/ against infra/tables (and the
vendored standard tables in tools/kql/tables). An unknown column, a wrong type or a syntax
error fails the text's test with its file and line. Node runs once for the whole module.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.content.texts import KqlText, all_texts, jobs
from tests.kql import Diagnostic, compile_all, compile_errors, errors_only, table_schemas

TEXTS = all_texts()


@pytest.fixture(scope="module")
def diagnostics() -> dict[str, list[Diagnostic]]:
    """Each text's diagnostics, by ``where`` and kind, from one Node run."""
    results = compile_all(jobs(TEXTS))
    return {f"{t.where}/{t.kind}": d for t, d in zip(TEXTS, results, strict=True)}


@pytest.mark.parametrize("text", TEXTS, ids=[f"{t.where}/{t.kind}" for t in TEXTS])
def test_text_compiles(text: KqlText, diagnostics: dict[str, list[Diagnostic]]) -> None:
    """It compiles without errors against the schemas."""
    errors = errors_only(diagnostics[f"{text.where}/{text.kind}"])
    report = [f"{text.location(e.line, e.column)}: {e.code} {e.message}" for e in errors]
    assert not report, "\n".join(report)


def test_every_kind_of_text_is_found() -> None:
    """The collector finds rules, parsers, workbook queries, transforms and docs blocks."""
    kinds = Counter(t.kind.split(":")[0] for t in TEXTS)
    assert kinds["rule"] >= 13
    assert kinds["parser"] == 4
    assert kinds["workbook"] >= 9
    assert kinds["transform"] >= 5
    assert kinds["markdown"] >= 15
    origins = {t.origin for t in TEXTS if t.kind == "markdown"}
    assert {"README.md", "docs/health.md", "docs/sources/fig.md", "docs/migrate.md"} <= origins
    # The table modes: both migrate transforms, the alongside unions, Wallarm's 23 per-type
    # functions in each mode, and Fig's two documented queries in migrate and alongside.
    assert {t.kind for t in TEXTS} >= {
        "transform:FigEvents_CL:migrate",
        "transform:WallarmEvents_CL:migrate",
        "function:alongside:FigEvents",
        "function:alongside:WallarmEvents",
        "function:migrate:new_hits",
    }
    assert kinds["function"] == 3 * 23 + 2
    assert kinds["fig-query"] == 4


def test_known_good_query_compiles() -> None:
    """The issue's own example compiles against FigEvents_CL's columns."""
    query = 'FigEvents_CL | where EventType == "SecurityEvent" and Success == false'
    assert compile_errors(query, table_schemas()) == []


def test_unknown_columns_fail_with_their_place() -> None:
    """Both misspelt names are reported, each at its line and column."""
    query = 'FigEvents_CL\n| where eventType_s == "SecurityEvent"\n| where success_b == false'
    errors = compile_errors(query, table_schemas())
    assert [(e.code, e.line, e.column) for e in errors] == [("KS142", 2, 9), ("KS142", 3, 9)]
    assert "eventType_s" in errors[0].message
    assert "success_b" in errors[1].message


def test_syntax_error_fails() -> None:
    """A misspelt operator is a syntax error."""
    errors = compile_errors("FigEvents_CL | wher Success == false", table_schemas())
    assert errors
    assert errors[0].line == 1


def test_wrong_type_fails() -> None:
    """A datetime compared with a string is a type error."""
    errors = compile_errors(
        'FigEvents_CL | where TimeGenerated > "yesterday" | where Success', table_schemas()
    )
    assert any(e.code == "KS106" for e in errors), errors


def test_unknown_table_fails() -> None:
    """A table that is in no schema is an error."""
    errors = compile_errors("FigEvent_CL | take 1", table_schemas())
    assert [e.code for e in errors] == ["KS204"]


def test_planted_error_in_a_rule_reports_the_file_line() -> None:
    """A rule text with a renamed column fails at the rule file's line of that column."""
    rule = next(t for t in TEXTS if t.origin.endswith("FigBruteForce.yaml"))
    planted = KqlText(rule.origin, rule.line, rule.text.replace("IpAddress", "IpAddr_s", 1), "rule")
    errors = errors_only(compile_all(jobs([planted]))[0])
    assert errors
    lines = rule.text.splitlines()
    text_line = next(i for i, line in enumerate(lines, start=1) if "IpAddress" in line)
    assert planted.location(errors[0].line, errors[0].column).startswith(
        f"{rule.origin}:{rule.line + text_line - 1}:"
    )
