"""Unsigned tokens and the per-row ingestion rules, without a network."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from local.emulators.streams import (
    MAX_FIELD_BYTES,
    apply_row_rules,
    fits_type,
    load_streams,
    stream_name,
)
from local.emulators.tokens import audience_matches, decode_claims, mint_unsigned_jwt

RECEIVED = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
COLUMNS = {"TimeGenerated": "datetime", "Name": "string", "Count": "int", "Extra": "dynamic"}


def test_minted_token_decodes_to_its_claims() -> None:
    """An unsigned JWT round-trips its claims and carries an empty signature."""
    claims = {"aud": "https://vault.azure.net", "exp": 2_000_000_000, "name": "é"}
    token = mint_unsigned_jwt(claims)
    assert token.endswith(".")
    assert decode_claims(token) == claims


@pytest.mark.parametrize("token", ["abc", "a.b", "a.!!!.", "e30.WzFd."])
def test_unreadable_tokens_are_refused(token: str) -> None:
    """Tokens that are not JWTs with an object payload raise ValueError."""
    with pytest.raises(ValueError, match="JWT"):
        decode_claims(token)


def test_audience_ignores_one_trailing_slash_only() -> None:
    """aud matches with or without a trailing slash, and nothing else."""
    assert audience_matches("https://monitor.azure.com/", "https://monitor.azure.com")
    assert not audience_matches("https://monitor.azure.us", "https://monitor.azure.com")
    assert not audience_matches(None, "https://monitor.azure.com")


@pytest.mark.parametrize(
    ("value", "column_type", "fits"),
    [
        ("x", "string", True),
        (1, "string", False),
        (2**31, "int", False),
        (2**31, "long", True),
        (True, "int", False),
        (1, "real", True),
        (float("nan"), "real", False),
        (False, "boolean", True),
        ("true", "boolean", False),
        ("2026-11-23T12:00:00Z", "datetime", True),
        ("yesterday", "datetime", False),
        ({"a": [1]}, "dynamic", True),
        ("0b5a0a8e-8f7e-4c47-9a38-1b1b1b1b1b1b", "guid", True),
        ("not-a-guid", "guid", False),
        (None, "int", True),
    ],
)
def test_value_types(value: object, column_type: str, fits: bool) -> None:
    """Each column type accepts exactly the JSON values that fit it."""
    assert fits_type(value, column_type) is fits


def test_unknown_columns_and_misfits_are_dropped_and_reported() -> None:
    """A column not declared disappears; a value of the wrong type becomes null."""
    row = {"TimeGenerated": "2026-11-23T11:00:00Z", "Name": 5, "Bogus": "x", "Count": 3}
    stored, issues = apply_row_rules(row, COLUMNS, RECEIVED)
    assert stored == {"TimeGenerated": "2026-11-23T11:00:00Z", "Name": None, "Count": 3}
    assert {(i.kind, i.column) for i in issues} == {
        ("TypeMismatch", "Name"),
        ("UnknownColumn", "Bogus"),
    }


def test_long_strings_are_cut_at_64_kb_on_a_character_boundary() -> None:
    """A string over 65,536 UTF-8 bytes is truncated to at most that, still valid text."""
    value = "é" * MAX_FIELD_BYTES  # 2 bytes per character
    stored, issues = apply_row_rules({"Name": value, "TimeGenerated": None}, COLUMNS, RECEIVED)
    cut = stored["Name"]
    assert len(cut.encode("utf-8")) == MAX_FIELD_BYTES
    assert value.startswith(cut)
    assert ("Truncated", "Name") in {(i.kind, i.column) for i in issues}


@pytest.mark.parametrize(
    ("time_generated", "replaced"),
    [
        (None, True),
        ((RECEIVED - timedelta(days=2, seconds=1)).isoformat(), True),
        ((RECEIVED - timedelta(days=1, hours=23)).isoformat(), False),
        ((RECEIVED + timedelta(hours=23)).isoformat(), False),
        ((RECEIVED + timedelta(days=1, seconds=1)).isoformat(), True),
    ],
)
def test_time_generated_outside_the_window_becomes_the_receive_time(
    time_generated: str | None, replaced: bool
) -> None:
    """TimeGenerated missing, over 2 days old or over 1 day ahead is replaced and logged."""
    row = {} if time_generated is None else {"TimeGenerated": time_generated}
    stored, issues = apply_row_rules(row, COLUMNS, RECEIVED)
    expected = RECEIVED.isoformat() if replaced else time_generated
    assert stored["TimeGenerated"] == expected
    assert any(i.kind == "TimeGeneratedReplaced" for i in issues) is replaced


def test_streams_come_from_the_table_files(tmp_path: Path) -> None:
    """Each <Table>_CL.json becomes stream Custom-<Table> with its column types."""
    schema = {"name": "Demo_CL", "columns": [{"name": "TimeGenerated", "type": "DateTime"}]}
    (tmp_path / "Demo_CL.json").write_text(json.dumps(schema), encoding="utf-8")
    assert load_streams(tmp_path) == {"Custom-Demo": {"TimeGenerated": "datetime"}}
    assert stream_name("FigEvents_CL") == "Custom-FigEvents"
    (tmp_path / "Broken.json").write_text('{"name": "x"}', encoding="utf-8")
    with pytest.raises(ValueError, match=r"Broken\.json"):
        load_streams(tmp_path)
