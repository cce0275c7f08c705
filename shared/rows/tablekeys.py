"""Table storage keys from outside text: validated, or hashed, never used raw.

Azure Table keys may not hold ``/``, ``\\``, ``#``, ``?`` or control characters and are
at most 1 KiB; a key made from a sender's text (SIGNL4's ``externalEventId``) that breaks
those rules made the storage call fail, a 503 that named internal parts and was retried
forever. Ids the bridge itself hands out (incident names: GUIDs) are *safe* keys and are
used as they are, lower-cased; anything else becomes a SHA-256 key, so no text can reach
the storage API as a key unless it is plainly harmless. Text that cannot be an id at all
(control characters, over 1024 characters) fails :func:`is_valid_id`.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
MAX_ID_CHARS = 1024


def is_valid_id(text: str) -> bool:
    """True for 1-1024 characters without control characters: an id worth looking up.

    Anything else cannot be an id the bridge handed out, and is refused (400) at the edge.
    """
    return 0 < len(text) <= MAX_ID_CHARS and not any(
        unicodedata.category(char) == "Cc" for char in text
    )


def is_safe_key(text: str) -> bool:
    """True for 1-128 letters, digits, '.', '_' and '-' (starting with a letter or digit)."""
    return _SAFE.fullmatch(text) is not None


def table_key(text: str) -> str:
    """The Table key for ``text``: itself lower-cased when safe, else ``h-`` + SHA-256 hex."""
    if is_safe_key(text):
        return text.lower()
    return "h-" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
