"""Deterministic event ids, so a redelivered event can be de-duplicated in KQL.

The id is a hash of the source, the event type and the event's content in canonical
JSON (sorted keys, no whitespace), so the same event sent twice gets the same id and
any change to its content gives another. Query with ``| summarize arg_max(TimeGenerated,
*) by EventId`` to see each event once.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_id(source: str, event_type: str, content: Any) -> str:
    """A 32-hex-digit id (128 bits of SHA-256) for ``content`` from ``source``."""
    canonical = _CANONICAL.encode([source, event_type, content])
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]
