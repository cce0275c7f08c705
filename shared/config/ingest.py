"""``INGEST_SOURCES``: the Standard Webhooks sources, read and checked entry by entry (pure).

``{"acme": {"stream": "Custom-BridgeEvents", "secretNames": ["acme-whsec-2", "acme-whsec-1"]}}``:
each entry is checked alone, so a bad one (a stream with no schema file, a bad secret
name) disables only its own route; ``shared.sources.ingest`` serves the good ones.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from shared.rows.schema import load_table

# Route names; with the "ingest-" prefix they stay valid source names (64 at most).
NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,56}")
STREAM = re.compile(r"Custom-[A-Za-z0-9_]{1,60}")
SECRET_NAME = re.compile(r"[0-9A-Za-z-]{1,127}")
CONFIG_KEYS = frozenset({"stream", "secretNames"})


@dataclass(frozen=True)
class IngestConfig:
    """One configured source: its stream and its Key Vault secret names, newest first."""

    stream: str
    secret_names: tuple[str, ...]

    @property
    def table(self) -> str:
        """The table behind the stream: ``Custom-Foo`` -> ``Foo_CL``."""
        return self.stream.removeprefix("Custom-") + "_CL"


@dataclass(frozen=True)
class IngestSettings:
    """``INGEST_SOURCES`` read: the sources that are well formed, and the problems of the
    others, by name, so one bad entry disables only itself."""

    sources: Mapping[str, IngestConfig]
    broken: Mapping[str, tuple[str, ...]]
    problems: tuple[str, ...] = ()
    """Problems of the whole setting (not JSON, not an object): every route is off."""


def parse_sources(text: str) -> IngestSettings:
    """Read ``INGEST_SOURCES``; return the sources and every problem found (by name).

    Each stream must have its table's schema file; problems never quote secret names'
    values (there are none here) but do name sources and keys, for the operator.
    """
    try:
        document = json.loads(text or "{}")
    except ValueError:
        return IngestSettings({}, {}, ("INGEST_SOURCES is not valid JSON",))
    if not isinstance(document, dict):
        return IngestSettings(
            {}, {}, ("INGEST_SOURCES must be a JSON object of source name -> settings",)
        )
    sources: dict[str, IngestConfig] = {}
    broken: dict[str, tuple[str, ...]] = {}
    for name, entry in document.items():
        found = _entry_problems(name, entry)
        if found:
            broken[name] = tuple(f"INGEST_SOURCES[{name!r}]: {p}" for p in found)
            continue
        sources[name] = IngestConfig(entry["stream"], tuple(entry["secretNames"]))
    return IngestSettings(MappingProxyType(sources), MappingProxyType(broken))


def _entry_problems(name: str, entry: Any) -> list[str]:
    if not NAME.fullmatch(name):
        return ["names are 1-57 of a-z, 0-9, - and _, starting with a letter or digit"]
    if not isinstance(entry, dict):
        return ['must be {"stream": "Custom-...", "secretNames": [...]}']
    problems = [f"unknown key {key!r}" for key in sorted(set(entry) - CONFIG_KEYS)]
    stream, names = entry.get("stream"), entry.get("secretNames")
    if not isinstance(stream, str) or not STREAM.fullmatch(stream):
        problems.append("stream must be Custom-<Table> (the table name without _CL)")
    elif not _has_schema(stream):
        problems.append(f"no schema file infra/tables/{stream.removeprefix('Custom-')}_CL.json")
    if (
        not isinstance(names, list)
        or not names
        or not all(isinstance(n, str) and SECRET_NAME.fullmatch(n) for n in names)
    ):
        problems.append("secretNames must be a non-empty list of Key Vault secret names")
    return problems


def _has_schema(stream: str) -> bool:
    try:
        load_table(IngestConfig(stream, ()).table)
    except (OSError, ValueError):
        return False
    return True
