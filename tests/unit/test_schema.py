"""Rows against infra/tables/*.json: coercion where lossless, clear refusals otherwise."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from shared.errors import SchemaError
from shared.rows.schema import TABLES_DIR, load_table, schema_from_json

FIG = load_table("FigEvents_CL")


def test_every_table_file_is_a_valid_schema() -> None:
    """Each JSON under infra/tables parses, names itself *_CL and has TimeGenerated."""
    files = sorted(Path(TABLES_DIR).glob("*.json"))
    assert files
    for path in files:
        schema = schema_from_json(json.loads(path.read_text()))
        assert path.stem == schema.table
        assert len(schema.column_names) == len(schema.columns)  # no column twice


def test_stream_name_is_derived_from_the_table() -> None:
    """FigEvents_CL is fed through Custom-FigEvents."""
    assert FIG.stream == "Custom-FigEvents"


def test_datetimes_become_utc_iso_strings() -> None:
    """An aware datetime is sent as ISO-8601 with Z; an ISO string with offset passes as is."""
    moment = datetime(2025, 6, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    row = FIG.shape_row({"TimeGenerated": moment, "EventTime": "2025-06-01T10:15:30.1234567Z"})
    assert row == {
        "TimeGenerated": "2025-06-01T10:00:00Z",
        "EventTime": "2025-06-01T10:15:30.1234567Z",
    }


def test_none_values_are_left_out() -> None:
    """None means no value: the column is omitted, not sent as null."""
    assert FIG.shape_row({"TimeGenerated": datetime.now(UTC), "UserName": None}).keys() == {
        "TimeGenerated"
    }


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("Success", "false"),
        ("UserName", 5),
        ("TimeGenerated", "2025-06-01T10:00:00"),
        ("TimeGenerated", "not a time"),
        ("TimeGenerated", datetime(2025, 6, 1)),
        ("Details", {"x": float("nan")}),
        ("Details", {"x": object()}),
    ],
)
def test_values_that_do_not_fit_are_refused_by_column(column: str, value: object) -> None:
    """A value that cannot fit its column is refused, naming the column."""
    with pytest.raises(SchemaError) as refused:
        FIG.shape_row({"TimeGenerated": datetime.now(UTC), column: value})
    assert column in str(refused.value)


def test_unknown_columns_are_refused() -> None:
    """A typo in a column name is caught before the service would drop it silently."""
    with pytest.raises(SchemaError, match="UserNmae"):
        FIG.shape_row({"TimeGenerated": datetime.now(UTC), "UserNmae": "x"})


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ({"name": "Fig", "columns": [{"name": "TimeGenerated", "type": "datetime"}]}, "_CL"),
        ({"name": "Fig_CL", "columns": []}, "non-empty"),
        ({"name": "Fig_CL", "columns": [{"name": "X", "type": "string"}]}, "TimeGenerated"),
        ({"name": "Fig_CL", "columns": [{"name": "TimeGenerated", "type": "date"}]}, "bad column"),
    ],
)
def test_bad_schema_files_are_refused(document: dict[str, object], reason: str) -> None:
    """A schema without _CL, columns or TimeGenerated, or with an unknown type, is an error."""
    with pytest.raises(ValueError, match=reason):
        schema_from_json(document)
