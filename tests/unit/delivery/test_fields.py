"""Fitting rows to the per-field limit: cut on character boundaries, flag what was cut."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.delivery import fit_row, fit_row_encoded, truncate_utf8
from shared.delivery._json import compact_json
from shared.delivery.fields import utf8_length
from tests.unit.delivery.strategies import rows

pytestmark = pytest.mark.disable_socket

FLAG = "TruncatedColumns"


def stored_size(value: Any) -> int:
    """What the service would measure for a value: a string's bytes, else its JSON's."""
    return utf8_length(value if isinstance(value, str) else compact_json(value))


@settings(max_examples=200)
@given(row=rows, limit=st.integers(1, 400))
def test_every_field_fits_and_exactly_the_cut_ones_are_flagged(
    row: dict[str, Any], limit: int
) -> None:
    """No field is over the limit, cut values are prefixes, and the flag names them."""
    original = copy.deepcopy(row)
    fitted = fit_row(row, max_field_bytes=limit)
    assert row == original, "the input row is never modified"
    assert fitted[FLAG] == sorted(fitted[FLAG])
    changed = []
    for name, value in row.items():
        result = fitted[name]
        if isinstance(value, str | dict | list) and stored_size(value) > limit:
            changed.append(name)
            text = value if isinstance(value, str) else compact_json(value)
            assert isinstance(result, str)
            assert text.startswith(result)
            assert utf8_length(result) <= limit
        else:
            assert result == value
    assert fitted[FLAG] == sorted(changed)
    assert set(fitted) == set(row) | {FLAG}


@settings(max_examples=200)
@given(text=st.text(max_size=80), limit=st.integers(0, 200))
def test_truncation_keeps_the_longest_prefix_that_fits(text: str, limit: int) -> None:
    """The cut is as late as possible: one more character would not fit."""
    result = truncate_utf8(text, limit)
    assert text.startswith(result)
    assert utf8_length(result) <= limit
    if result != text:
        assert utf8_length(text[: len(result) + 1]) > limit


@given(row=rows, limit=st.integers(1, 400))
def test_fitting_twice_changes_nothing(row: dict[str, Any], limit: int) -> None:
    """A fitted row is already fitted: the flag keeps the names from the first pass."""
    once = fit_row(row, max_field_bytes=limit)
    assert fit_row(once, max_field_bytes=limit) == once


def test_multibyte_characters_are_never_split() -> None:
    """Two-byte characters are cut whole: 5 bytes hold two of them, not two and a half."""
    fitted = fit_row({"Name": "é" * 10}, max_field_bytes=5)
    assert fitted == {"Name": "éé", FLAG: ["Name"]}


def test_four_byte_characters_and_lone_surrogates_are_cut_whole() -> None:
    """An emoji (4 bytes) and a lone surrogate (3 bytes) are cut as units."""
    assert truncate_utf8("ab😀c", 5) == "ab"
    assert truncate_utf8("ab\ud800c", 4) == "ab"
    assert truncate_utf8("ab\ud800c", 5) == "ab\ud800"


def test_default_limit_is_64_kib() -> None:
    """With the defaults, a 70,000-character string is cut to 65,536 bytes."""
    fitted = fit_row({"Message": "x" * 70_000, "Count": 3})
    assert len(fitted["Message"]) == 65_536
    assert fitted[FLAG] == ["Message"]
    assert fitted["Count"] == 3


def test_large_dynamic_value_becomes_its_cut_json_text() -> None:
    """A dict over the limit is stored as the start of its compact JSON, as a string."""
    value = {"items": list(range(100))}
    fitted = fit_row({"Details": value}, max_field_bytes=20)
    assert fitted == {"Details": json.dumps(value, separators=(",", ":"))[:20], FLAG: ["Details"]}


def test_nothing_cut_still_has_an_empty_flag() -> None:
    """The flag column is always present, as [] when every field fits."""
    assert fit_row({"a": "short", "b": [1, 2], "c": None}) == {
        "a": "short",
        "b": [1, 2],
        "c": None,
        FLAG: [],
    }


def test_existing_flags_are_kept_and_merged() -> None:
    """Names already flagged stay flagged alongside new ones, sorted, without repeats."""
    fitted = fit_row({"b": "x" * 10, FLAG: ["z", "b"]}, max_field_bytes=3)
    assert fitted[FLAG] == ["b", "z"]


def test_custom_flag_column() -> None:
    """The flag column's name can be chosen."""
    assert fit_row({"a": "xyz"}, max_field_bytes=1, flag_column="Cut") == {"a": "x", "Cut": ["a"]}


@pytest.mark.parametrize("bad", ["a", [1], {"x": 1}])
def test_flag_column_holding_something_else_is_refused(bad: Any) -> None:
    """The flag column is reserved for a list of column names."""
    with pytest.raises(ValueError, match="reserved"):
        fit_row({FLAG: bad})


def test_limit_must_be_positive() -> None:
    """A limit of zero bytes makes no sense."""
    with pytest.raises(ValueError, match="positive"):
        fit_row({"a": "b"}, max_field_bytes=0)


@settings(max_examples=200)
@given(row=rows, limit=st.integers(1, 400))
def test_fitting_with_the_encoding_gives_the_same_row_and_its_json(
    row: dict[str, Any], limit: int
) -> None:
    """fit_row_encoded is fit_row plus the row's compact JSON, whichever path it takes."""
    fitted, encoded = fit_row_encoded(row, max_field_bytes=limit)
    assert fitted == fit_row(row, max_field_bytes=limit)
    assert json.loads(encoded) == fitted


def test_a_small_fitted_row_is_encoded_once_and_kept_as_it_is() -> None:
    """The fast path: the whole row is under the limit, so it and its key order stay."""
    row = {"Message": "é" * 10, "Details": {"a": [1, 2]}, FLAG: []}
    fitted, encoded = fit_row_encoded(row, max_field_bytes=64)
    assert list(fitted) == list(row)
    assert encoded == json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode()
