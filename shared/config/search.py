"""Search results for forwarded incidents: the rows behind each alert (pure parsing).

Off by default: each incident then costs Log Analytics queries as well as ARM reads,
and the rows may hold more than a destination should see. The bounds keep one
incident's message small and its forward quick whatever the rules' queries return.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlparse

DEFAULT_ENDPOINT = "https://api.loganalytics.io"
MAX_ROWS_LIMIT = 100
MAX_BYTES_LIMIT = 64 * 1024
MAX_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class SearchSettings:
    """``INCIDENT_SEARCH_*`` and ``LOG_ANALYTICS_ENDPOINT``."""

    enabled: bool = False
    max_rows: int = 10
    """Rows kept per alert."""
    max_bytes: int = 8192
    """JSON bytes kept per alert."""
    timeout_seconds: float = 10.0
    """For all of one incident's queries together."""
    endpoint: str = DEFAULT_ENDPOINT


def query_audience(endpoint: str) -> str:
    """The token audience for the query API at ``endpoint``: itself for
    ``api.loganalytics.*`` hosts (sovereign clouds), else the public cloud's (an emulator)."""
    host = urlparse(endpoint).hostname or ""
    return endpoint.rstrip("/") if host.startswith("api.loganalytics.") else DEFAULT_ENDPOINT


def parse_search_settings(text_of: Callable[[str], str]) -> tuple[SearchSettings, list[str]]:
    """The settings from their texts, and a problem per bad one."""
    problems: list[str] = []
    enabled = text_of("INCIDENT_SEARCH_RESULTS").lower()
    if enabled not in ("true", "false"):
        problems.append("INCIDENT_SEARCH_RESULTS must be true or false")
    endpoint = text_of("LOG_ANALYTICS_ENDPOINT").rstrip("/")
    parsed = urlparse(endpoint)
    if parsed.scheme != "https" or not parsed.netloc:
        problems.append("LOG_ANALYTICS_ENDPOINT must be an https:// URL")
    return (
        SearchSettings(
            enabled=enabled == "true",
            max_rows=int(_bounded(text_of, "INCIDENT_SEARCH_MAX_ROWS", MAX_ROWS_LIMIT, problems)),
            max_bytes=int(
                _bounded(text_of, "INCIDENT_SEARCH_MAX_BYTES", MAX_BYTES_LIMIT, problems)
            ),
            timeout_seconds=_bounded(
                text_of, "INCIDENT_SEARCH_TIMEOUT_SECONDS", MAX_TIMEOUT_SECONDS, problems
            ),
            endpoint=endpoint,
        ),
        problems,
    )


def _bounded(text_of: Callable[[str], str], name: str, limit: float, problems: list[str]) -> float:
    try:
        value = float(text_of(name))
    except ValueError:
        value = float("nan")
    if not 0 < value <= limit:  # NaN fails too
        problems.append(f"{name} must be a number above 0 and at most {limit:g}")
        return 1.0
    return value
