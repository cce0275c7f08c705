"""The request as every HTTP edge's service sees it, apart from ``azure.functions``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class InboundRequest:
    """What the edge hands a service: method, headers (lower-case names), body, time, and
    the query string's parameters."""

    method: str
    headers: Mapping[str, str]
    body: bytes
    received: datetime
    params: Mapping[str, str] = field(default_factory=dict)
