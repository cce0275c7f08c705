"""``INCIDENT_SOURCES``: many incident sources from one deployment (pure).

A JSON list; each entry is one source with its own filters, tag, destinations, SIGNL4 team
and state (watermark, records, breakers)::

    [{"id": "contoso", "kind": "sentinel", "subscriptionId": "...",
      "resourceGroup": "rg-sec", "workspace": "law-sec"},
     {"id": "defender", "kind": "graph", "statuses": ["New", "Active"],
      "signl4TeamSecretName": "signl4-team-soc2", "webhooks": ["siem"]}]

Keys besides ``id`` and ``kind`` are optional and default to the single-source settings
(``INCIDENT_STATUSES``, ``SIGNL4_TAG``, ...): ``statuses``, ``severities``, ``maxAgeHours``,
``label``, ``signl4Tag``, ``signl4TeamSecretName``, ``webhooks`` (names from
``WEBHOOK_DESTINATIONS``; all by default), ``webhookTags``, ``augment``, ``cases`` (Kibana's
case routes write to this Sentinel source; at most one).

The ``SENTINEL_*`` workspace, when set, is the source with the id ``default`` (whose
state and SIGNL4 ids are unprefixed, as before there were several), first in the list;
unset or ``[]``, it is the only one. Without ``SENTINEL_*``, an entry may take the id
``default`` to keep that state. ``lighthouse: true`` marks a workspace reached through an
Azure Lighthouse delegation (the deployment grants it no role: the delegation does); the
app does not read it. A problem with one entry turns off that entry only (the
feature ``incident-source:<id>``); a list that is not JSON turns off incident forwarding.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from types import MappingProxyType
from typing import Any

from shared.config.incidents import (
    DEFAULT_SOURCE,
    GRAPH_KIND,
    MAX_AGE_HOURS_LIMIT,
    MAX_TAG_CHARS,
    SENTINEL_KIND,
    SEVERITIES,
    SOURCE_KINDS,
    STATUSES,
    IncidentSettings,
)

SETTING = "INCIDENT_SOURCES"
FEATURE_PREFIX = "incident-source:"
MAX_SOURCES = 200
_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
_SECRET_NAME = re.compile(r"[A-Za-z0-9-]{1,127}")
_AZURE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.()-]{0,89}")
_SENTINEL_KEYS = {"subscriptionId", "resourceGroup", "workspace"}
_COMMON_KEYS = {
    "id",
    "kind",
    "statuses",
    "severities",
    "maxAgeHours",
    "label",
    "signl4Tag",
    "signl4TeamSecretName",
    "webhooks",
    "webhookTags",
    "augment",
    "cases",
}
_SENTINEL_KEYS |= {"lighthouse"}


def feature_of(source_id: str) -> str:
    """The feature name under which one source's problems are recorded."""
    return FEATURE_PREFIX + source_id


@dataclass(frozen=True)
class IncidentSources:
    """Every configured source that has no problem, in order, and each broken one's problems."""

    sources: tuple[IncidentSettings, ...] = ()
    problems: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))

    def get(self, source_id: str) -> IncidentSettings | None:
        """The source called ``source_id``, if configured and sound."""
        return next((s for s in self.sources if s.source_id == source_id), None)

    @property
    def ids(self) -> tuple[str, ...]:
        """The sound sources' ids."""
        return tuple(s.source_id for s in self.sources)

    def case_source(self) -> IncidentSettings | None:
        """The Sentinel source Kibana's case routes write to: the one marked ``cases``, else
        the first Sentinel source."""
        sentinel = [s for s in self.sources if s.kind == SENTINEL_KIND]
        return next((s for s in sentinel if s.cases), sentinel[0] if sentinel else None)


def parse_incident_sources(text: str, base: IncidentSettings) -> tuple[IncidentSources, list[str]]:
    """The sources from ``INCIDENT_SOURCES`` (``base`` gives every default), and the problems
    that turn off all incident forwarding (the list itself is unreadable)."""
    if not text.strip() or text.strip() == "[]":
        return IncidentSources((base,) if base.enabled else ()), []
    try:
        document = json.loads(text)
    except ValueError:
        return IncidentSources(), [f"{SETTING} is not JSON"]
    if not isinstance(document, list):
        return IncidentSources(), [f"{SETTING} must be a JSON list of sources"]
    if len(document) > MAX_SOURCES:
        return IncidentSources(), [f"{SETTING} lists more than {MAX_SOURCES} sources"]
    found: list[IncidentSettings] = [base] if base.enabled else []
    problems: dict[str, tuple[str, ...]] = {}
    for index, item in enumerate(document):
        source_id = item.get("id") if isinstance(item, dict) else None
        key = source_id if isinstance(source_id, str) and _ID.fullmatch(source_id) else f"#{index}"
        if key in problems or any(s.source_id == key for s in found):
            taken = "is the SENTINEL_* workspace's" if key == DEFAULT_SOURCE else "is used twice"
            problems[f"#{index}"] = (f"{SETTING}[{index}]: the id {key} {taken}",)
            continue
        entry_problems: list[str] = []
        source = _entry(item, base, f"{SETTING}[{index}]", entry_problems)
        if entry_problems or source is None:
            problems[key] = tuple(entry_problems)
        else:
            found.append(source)
    marked = [s for s in found if s.cases and s.kind == SENTINEL_KIND]
    if len(marked) > 1:
        for source in marked[1:]:
            problems[source.source_id] = ('"cases": true is set on more than one source',)
        found = [s for s in found if s not in marked[1:]]
    return IncidentSources(tuple(found), MappingProxyType(problems)), []


def _entry(
    item: object, base: IncidentSettings, where: str, problems: list[str]
) -> IncidentSettings | None:
    if not isinstance(item, dict):
        problems.append(f"{where} must be an object")
        return None
    source_id, kind = item.get("id"), item.get("kind")
    if not isinstance(source_id, str) or not _ID.fullmatch(source_id):
        problems.append(f"{where}.id must be 1-32 lower-case letters, digits or '-'")
    if kind not in SOURCE_KINDS:
        problems.append(f"{where}.kind must be one of {', '.join(SOURCE_KINDS)}")
        return None
    allowed = _COMMON_KEYS | (_SENTINEL_KEYS if kind == SENTINEL_KIND else set())
    unknown = sorted(set(item) - allowed)
    if unknown:
        problems.append(f"{where} has unknown key(s) {', '.join(unknown)} for kind {kind}")
    workspace = ("", "", "")
    if kind == SENTINEL_KIND:
        parts = tuple(item.get(k) for k in ("subscriptionId", "resourceGroup", "workspace"))
        if not all(isinstance(p, str) and _AZURE_NAME.fullmatch(p) for p in parts):
            problems.append(f"{where} needs subscriptionId, resourceGroup and workspace")
        else:
            workspace = tuple(str(p) for p in parts)  # type: ignore[assignment]  # three
    if not isinstance(item.get("lighthouse", False), bool):
        problems.append(f"{where}.lighthouse must be true or false")
    if problems:
        return None
    webhooks = base.webhooks
    if "webhooks" in item:
        names = item["webhooks"]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            problems.append(f"{where}.webhooks must be a list of WEBHOOK_DESTINATIONS names")
            names = []
        missing = sorted(set(names) - {w.name for w in base.webhooks})
        if missing:
            problems.append(f"{where}.webhooks names unknown destination(s) {', '.join(missing)}")
        webhooks = tuple(w for w in base.webhooks if w.name in names)
    return replace(
        base,
        source_id=str(source_id),
        kind=str(kind),
        subscription_id=workspace[0],
        resource_group=workspace[1],
        workspace_name=workspace[2],
        statuses=_names(item, "statuses", STATUSES, base.statuses, where, problems),
        severities=_severities(item, base, where, problems),
        max_age=_max_age(item, base, where, problems),
        label=_text(item, "label", base.label, where, problems) or None,
        signl4_tag=_tag(item, base, where, problems),
        signl4_team_secret_name=_secret(item, base, where, problems),
        webhooks=webhooks,
        webhook_tags=_flag(item, "webhookTags", base.webhook_tags, where, problems),
        augment=_flag(item, "augment", base.augment, where, problems),
        cases=_flag(item, "cases", False, where, problems) and kind == SENTINEL_KIND,
    )


def _names(
    item: dict[str, Any],
    key: str,
    known: tuple[str, ...],
    default: frozenset[str],
    where: str,
    problems: list[str],
) -> frozenset[str]:
    if key not in item:
        return default
    value = item[key]
    if not isinstance(value, list) or not value or not all(v in known for v in value):
        problems.append(f"{where}.{key} must be a non-empty list of {', '.join(known)}")
        return default
    return frozenset(value)


def _severities(
    item: dict[str, Any], base: IncidentSettings, where: str, problems: list[str]
) -> frozenset[str] | None:
    if "severities" not in item:
        return base.severities
    return _names(item, "severities", SEVERITIES, frozenset(SEVERITIES), where, problems)


def _max_age(
    item: dict[str, Any], base: IncidentSettings, where: str, problems: list[str]
) -> timedelta:
    if "maxAgeHours" not in item:
        return base.max_age
    hours = item["maxAgeHours"]
    if isinstance(hours, bool) or not isinstance(hours, int | float):
        hours = float("nan")
    if not 0 < hours <= MAX_AGE_HOURS_LIMIT:
        problems.append(f"{where}.maxAgeHours must be above 0 and at most {MAX_AGE_HOURS_LIMIT}")
        return base.max_age
    return timedelta(hours=hours)


def _text(
    item: dict[str, Any], key: str, default: str | None, where: str, problems: list[str]
) -> str:
    value = item.get(key, default or "")
    if not isinstance(value, str) or len(value) > MAX_TAG_CHARS:
        problems.append(f"{where}.{key} must be a string of at most {MAX_TAG_CHARS} characters")
        return ""
    return value.strip()


def _tag(item: dict[str, Any], base: IncidentSettings, where: str, problems: list[str]) -> str:
    return _text(item, "signl4Tag", base.signl4_tag, where, problems)


def _secret(item: dict[str, Any], base: IncidentSettings, where: str, problems: list[str]) -> str:
    value = item.get("signl4TeamSecretName", base.signl4_team_secret_name)
    if not isinstance(value, str) or not _SECRET_NAME.fullmatch(value):
        problems.append(f"{where}.signl4TeamSecretName must be a Key Vault secret name")
        return base.signl4_team_secret_name
    return value


def _flag(item: dict[str, Any], key: str, default: bool, where: str, problems: list[str]) -> bool:
    value = item.get(key, default)
    if not isinstance(value, bool):
        problems.append(f"{where}.{key} must be true or false")
        return default
    return value


__all__ = [
    "DEFAULT_SOURCE",
    "GRAPH_KIND",
    "SETTING",
    "IncidentSources",
    "feature_of",
    "parse_incident_sources",
]
