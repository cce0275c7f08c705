"""Whether the identity may write incidents, from ARM's permissions API (pure).

``GET {workspace}/providers/Microsoft.Authorization/permissions`` lists the caller's
``actions`` and ``notActions`` (wildcards ``*``, case-insensitive). Writing back needs
``Microsoft.SecurityInsights/incidents/write`` and ``.../incidents/comments/write``:
*Microsoft Sentinel Responder* grants both and nothing more; *Reader* suffices when
nothing is written back (no SIGNL4 callback, no tags).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

READ = "Microsoft.SecurityInsights/incidents/read"
WRITE = "Microsoft.SecurityInsights/incidents/write"
COMMENT = "Microsoft.SecurityInsights/incidents/comments/write"
RESPONDER = "Microsoft Sentinel Responder (3e150937-b8fe-4cfb-8069-0eaf05ecd056)"
READER = "Microsoft Sentinel Reader (8d289c81-5878-46d4-8554-54e1e3d8b5cb)"


def allowed(permissions: object, action: str) -> bool:
    """Whether any grant's ``actions`` matches ``action`` and none of its ``notActions``."""
    grants = permissions.get("value") if isinstance(permissions, Mapping) else None
    for grant in grants if isinstance(grants, list) else []:
        if not isinstance(grant, Mapping):
            continue
        if _any(grant.get("actions"), action) and not _any(grant.get("notActions"), action):
            return True
    return False


def missing(permissions: object, actions: Sequence[str]) -> list[str]:
    """The ``actions`` the permissions do not grant."""
    return [action for action in actions if not allowed(permissions, action)]


def _any(patterns: Any, action: str) -> bool:
    if not isinstance(patterns, list):
        return False
    return any(isinstance(p, str) and _matches(p, action) for p in patterns)


def _matches(pattern: str, action: str) -> bool:
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, action, re.IGNORECASE) is not None
