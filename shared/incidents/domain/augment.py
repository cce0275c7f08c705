"""Alerts and entities of an incident, reduced to plain fields destinations can show (pure).

Entities come from ``POST .../entities`` (``{"entities": [...]}``) and alerts from
``POST .../alerts`` (``{"value": [...]}``); the shapes are the REST spec's examples.
Each entity kind has one field list, walked by one loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.incidents.timeline import MAX_COMMENTS

MAX_VALUES = 50
"""At most this many alerts, and names per entity bucket (the count left out is stated)."""
MAX_ENTITIES = 100
"""At most this many entities of every kind (kind and display name)."""
# kind -> (bucket, how to name one entity of that kind from its properties)
_ENTITY_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "Account": ("accounts", ("userPrincipalName", "accountName", "friendlyName")),
    "Host": ("hosts", ("fqdn", "hostName", "netBiosName", "friendlyName")),
    "Ip": ("ips", ("address", "friendlyName")),
    "Url": ("urls", ("url", "friendlyName")),
}
# Display-name fields of every other kind (File, Process, Mailbox, AzureResource, ...).
_DISPLAY = (
    "friendlyName",
    "displayName",
    "name",
    "fileName",
    "commandLine",
    "mailboxPrimaryAddress",
    "recipient",
    "resourceId",
    "address",
    "url",
    "domainName",
    "value",
)


@dataclass(frozen=True)
class Augmentation:
    """What the alerts and entities add to an incident's message."""

    accounts: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    alerts: tuple[dict[str, Any], ...] = field(default=())
    entities: tuple[dict[str, str], ...] = ()
    """Every entity, of every kind: ``{"kind", "name"}`` (display name)."""
    alerts_omitted: int = 0
    entities_omitted: int = 0
    comments: tuple[dict[str, Any], ...] = ()
    """The comments since the previous event (``shared.incidents.timeline``)."""
    comments_omitted: int = 0

    @property
    def products(self) -> tuple[str, ...]:
        """The alerts' product names, each once, in order."""
        found: list[str] = []
        for alert in self.alerts:
            product = alert.get("product")
            if isinstance(product, str) and product and product not in found:
                found.append(product)
        return tuple(found)

    def as_json(self) -> dict[str, Any]:
        """JSON-ready, for the signed webhook's ``data``."""
        return {
            "accounts": list(self.accounts),
            "hosts": list(self.hosts),
            "ips": list(self.ips),
            "urls": list(self.urls),
            "alerts": [dict(a) for a in self.alerts],
            "entities": [dict(e) for e in self.entities],
            "products": list(self.products),
            "comments": [dict(c) for c in self.comments],
            "limits": {"alerts": MAX_VALUES, "entities": MAX_ENTITIES, "comments": MAX_COMMENTS},
            "omitted": {
                "alerts": self.alerts_omitted,
                "entities": self.entities_omitted,
                "comments": self.comments_omitted,
            },
        }


def augmentation(alerts: object, entities: object) -> Augmentation:
    """Plain fields from the two POST answers; anything unexpected is skipped."""
    buckets: dict[str, list[str]] = {"accounts": [], "hosts": [], "ips": [], "urls": []}
    every: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for entity in _items(entities, "entities"):
        properties = entity.get("properties")
        if not isinstance(properties, Mapping):
            continue
        kind = str(entity.get("kind") or "Unknown")
        bucket, names = _ENTITY_FIELDS.get(kind, ("", ()))
        value = _entity_name(kind, properties, (*names, *_DISPLAY))
        if not value:
            continue
        if (kind, value) not in seen:
            seen.add((kind, value))
            if len(every) < MAX_ENTITIES:
                every.append({"kind": kind, "name": value})
        if bucket and value not in buckets[bucket] and len(buckets[bucket]) < MAX_VALUES:
            buckets[bucket].append(value)
    listed = _items(alerts, "value")
    summaries = tuple(_alert(a) for a in listed[:MAX_VALUES])
    return Augmentation(
        entities=tuple(every),
        entities_omitted=len(seen) - len(every),
        alerts_omitted=max(0, len(listed) - MAX_VALUES),
        accounts=tuple(buckets["accounts"]),
        hosts=tuple(buckets["hosts"]),
        ips=tuple(buckets["ips"]),
        urls=tuple(buckets["urls"]),
        alerts=summaries,
    )


def _items(document: object, key: str) -> list[Mapping[str, Any]]:
    found = document.get(key) if isinstance(document, Mapping) else None
    return [item for item in found or [] if isinstance(item, Mapping)]


def _entity_name(kind: str, properties: Mapping[str, Any], names: tuple[str, ...]) -> str:
    if kind == "Account" and isinstance(properties.get("accountName"), str):
        domain = properties.get("ntDomain") or properties.get("upnSuffix")
        account = str(properties["accountName"])
        if isinstance(properties.get("userPrincipalName"), str):
            return str(properties["userPrincipalName"])
        if isinstance(domain, str) and domain:
            return f"{domain}\\{account}" if "ntDomain" in properties else f"{account}@{domain}"
        return account
    if kind == "Host" and isinstance(properties.get("hostName"), str):
        domain = properties.get("dnsDomain")
        host = str(properties["hostName"])
        return f"{host}.{domain}" if isinstance(domain, str) and domain else host
    for name in names:
        value = properties.get(name)
        if isinstance(value, str) and value:
            return value
    return ""


def _alert(alert: Mapping[str, Any]) -> dict[str, Any]:
    properties = alert.get("properties")
    props: Mapping[str, Any] = properties if isinstance(properties, Mapping) else {}
    return {
        "id": props.get("systemAlertId"),
        "name": props.get("alertDisplayName") or props.get("friendlyName"),
        "severity": props.get("severity"),
        "product": props.get("productName"),
        "time": props.get("timeGenerated"),
        "startTime": props.get("startTimeUtc"),
        "endTime": props.get("endTimeUtc"),
        "tactics": list(props.get("tactics") or []),
        "techniques": list(props.get("techniques") or []),
    }
