"""An incident's comments since the previous event: the timeline destinations get (pure).

Comments come from ``GET .../comments`` (``{"value": [...]}``). The timeline holds the
comments created after the version the bridge last handled (all of them for a first
event), oldest first, at most ``MAX_COMMENTS`` and each cut to ``MAX_COMMENT_CHARS``; how
many were left out is stated.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from shared.errors import IncidentFormatError
from shared.incidents.domain.model import parse_arm_time

MAX_COMMENTS = 20
MAX_COMMENT_CHARS = 2000


def comments_since(document: object, since: datetime | None) -> dict[str, Any]:
    """``{"comments": (...), "comments_omitted": n}`` for ``Augmentation``'s fields."""
    found: list[tuple[datetime, dict[str, Any]]] = []
    value = document.get("value") if isinstance(document, Mapping) else None
    for comment in value if isinstance(value, list) else []:
        props = comment.get("properties") if isinstance(comment, Mapping) else None
        if not isinstance(props, Mapping) or not isinstance(props.get("message"), str):
            continue
        try:
            created = parse_arm_time(props.get("createdTimeUtc"))
        except IncidentFormatError:
            continue
        if since is not None and created <= since:
            continue
        message = str(props["message"])
        if len(message) > MAX_COMMENT_CHARS:
            message = message[: MAX_COMMENT_CHARS - 1] + "…"
        entry = {"time": props["createdTimeUtc"], "author": _author(props), "message": message}
        found.append((created, entry))
    found.sort(key=lambda pair: pair[0])
    kept = tuple(entry for _, entry in found[-MAX_COMMENTS:])
    return {"comments": kept, "comments_omitted": len(found) - len(kept)}


def _author(props: Mapping[str, Any]) -> str | None:
    author = props.get("author")
    if not isinstance(author, Mapping):
        return None
    for key in ("name", "userPrincipalName", "email"):
        if isinstance(author.get(key), str) and author[key]:
            return str(author[key])
    return None
