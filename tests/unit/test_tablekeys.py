"""Table keys from outside text: safe ids kept (lower-cased), anything else hashed."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shared.rows.tablekeys import is_safe_key, is_valid_id, table_key

FORBIDDEN = set("/\\#?") | {chr(c) for c in range(32)} | {chr(127)}


def test_incident_names_are_kept() -> None:
    """A GUID (what the bridge sends as the external id) is its own key, lower-cased."""
    name = "8E1B7D7C-3F2A-4B1E-9C6D-5A4B3C2D1E0F"
    assert is_safe_key(name)
    assert table_key(name) == name.lower()


@given(st.text(max_size=400))
def test_no_text_yields_a_key_table_storage_refuses(text: str) -> None:
    """Whatever the text (lone surrogates included), the key is short and holds no forbidden
    character; different unsafe texts do not share a key by construction (SHA-256)."""
    key = table_key(text)
    assert 0 < len(key) <= 130
    assert not FORBIDDEN & set(key)
    assert is_safe_key(text) or key.startswith("h-")


def test_ids_with_control_characters_or_too_long_are_invalid() -> None:
    """Spaces and slashes are fine (they get hashed); controls and 1025 characters are not."""
    assert is_valid_id("a/b?c#d")
    assert is_valid_id("INC 0912 10")
    assert not is_valid_id("")
    assert not is_valid_id("bell\u0007")
    assert not is_valid_id("x" * 1025)
