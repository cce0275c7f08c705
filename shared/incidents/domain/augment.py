"""Alerts and entities of an incident, reduced to plain fields destinations can show (pure).

Entities come from ``POST .../entities`` (``{"entities": [...]}``) and alerts from
``POST .../alerts`` (``{"value": [...]}``); the shapes are the REST spec's examples.
Each entity kind has one field list, walked by one loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MAX_VALUES = 50
# kind -> (bucket, how to name one entity of that kind from its properties)
_ENTITY_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "Account": ("accounts", ("userPrincipalName", "accountName", "friendlyName")),
    "Host": ("hosts", ("fqdn", "hostName", "netBiosName", "friendlyName")),
    "Ip": ("ips", ("address", "friendlyName")),
    "Url": ("urls", ("url", "friendlyName")),
}


@dataclass(frozen=True)
class Augmentation:
    """What the alerts and entities add to an incident's message."""

    accounts: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    alerts: tuple[dict[str, Any], ...] = field(default=())

    def as_json(self) -> dict[str, Any]:
        """JSON-ready, for the signed webhook's ``data``."""
        return {
            "accounts": list(self.accounts),
            "hosts": list(self.hosts),
            "ips": list(self.ips),
            "urls": list(self.urls),
            "alerts": [dict(a) for a in self.alerts],
        }


def augmentation(alerts: object, entities: object) -> Augmentation:
    """Plain fields from the two POST answers; anything unexpected is skipped."""
    buckets: dict[str, list[str]] = {"accounts": [], "hosts": [], "ips": [], "urls": []}
    for entity in _items(entities, "entities"):
        spec = _ENTITY_FIELDS.get(str(entity.get("kind")))
        properties = entity.get("properties")
        if spec is None or not isinstance(properties, Mapping):
            continue
        bucket, names = spec
        value = _entity_name(entity["kind"], properties, names)
        if value and value not in buckets[bucket] and len(buckets[bucket]) < MAX_VALUES:
            buckets[bucket].append(value)
    summaries = tuple(_alert(a) for a in _items(alerts, "value")[:MAX_VALUES])
    return Augmentation(
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
        "name": props.get("alertDisplayName") or props.get("friendlyName"),
        "severity": props.get("severity"),
        "product": props.get("productName"),
        "time": props.get("timeGenerated"),
        "tactics": list(props.get("tactics") or []),
    }
