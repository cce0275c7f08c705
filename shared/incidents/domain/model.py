"""A typed view of an incident as ARM returns it (raw JSON, camelCase), and its version (pure).

The 1.0.0 SDK models drop ``providerName``, ``providerIncidentId`` and ``owner.ownerType``,
so the bridge keeps the raw resource and reads it through :class:`Incident`.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.errors import IncidentFormatError

_ISO = re.compile(
    r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?$", re.I
)
FINGERPRINT_FIELDS = ("title", "description", "severity", "status", "classification")
COUNTED = ("alertsCount", "commentsCount")


def parse_arm_time(text: object) -> datetime:
    """An ARM timestamp (any number of fractional digits, ``Z`` or an offset) as aware UTC.

    Raises:
        IncidentFormatError: not such a timestamp.
    """
    match = _ISO.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise IncidentFormatError("not an ISO-8601 timestamp")
    day, minute, second, fraction, zone = match.groups()
    micros = (fraction or "0")[:6].ljust(6, "0")
    offset = "+00:00" if zone is None or zone.upper() == "Z" else zone
    try:
        moment = datetime.fromisoformat(f"{day}T{minute}:{second or '00'}.{micros}{offset}")
    except ValueError as error:
        raise IncidentFormatError("not a valid timestamp") from error
    return moment.astimezone(UTC)


def format_arm_time(moment: datetime) -> str:
    """``moment`` for a ``$filter``: UTC, microseconds, ``Z`` (never ``+00:00``, which an
    unescaped nextLink would turn into a space)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Incident:
    """One incident resource, kept raw; properties read on demand."""

    raw: dict[str, Any]

    @classmethod
    def of(cls, raw: object) -> Incident:
        """Wrap ``raw``, checking the fields the bridge relies on.

        Raises:
            IncidentFormatError: a field is missing or of the wrong type.
        """
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise IncidentFormatError("an incident needs a name")
        properties = raw.get("properties")
        if not isinstance(properties, dict):
            raise IncidentFormatError("an incident needs properties")
        parse_arm_time(properties.get("lastModifiedTimeUtc"))
        parse_arm_time(properties.get("createdTimeUtc"))
        return cls(raw)

    @property
    def name(self) -> str:
        """The incident's GUID (the ``{incidentId}`` of its URL)."""
        return str(self.raw["name"])

    @property
    def properties(self) -> dict[str, Any]:
        """The ``properties`` object."""
        props: dict[str, Any] = self.raw["properties"]
        return props

    @property
    def etag(self) -> str | None:
        """The etag, quotes included; None if absent."""
        etag = self.raw.get("etag")
        return etag if isinstance(etag, str) else None

    @property
    def last_modified(self) -> datetime:
        """The service's own ``lastModifiedTimeUtc``."""
        return parse_arm_time(self.properties.get("lastModifiedTimeUtc"))

    @property
    def last_modified_text(self) -> str:
        """``lastModifiedTimeUtc`` as the service wrote it (the version key)."""
        return str(self.properties["lastModifiedTimeUtc"])

    @property
    def created(self) -> datetime:
        """``createdTimeUtc``."""
        return parse_arm_time(self.properties.get("createdTimeUtc"))

    def text(self, key: str) -> str:
        """A string property, or ``""``."""
        value = self.properties.get(key)
        return value if isinstance(value, str) else ""

    @property
    def number(self) -> int | None:
        """``incidentNumber``."""
        value = self.properties.get("incidentNumber")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def labels(self) -> list[str]:
        """The label names, in order."""
        found = self.properties.get("labels") or []
        return [
            str(label["labelName"])
            for label in found
            if isinstance(label, dict) and isinstance(label.get("labelName"), str)
        ]

    @property
    def owner(self) -> dict[str, Any]:
        """The owner object (empty when none)."""
        owner = self.properties.get("owner")
        return owner if isinstance(owner, dict) else {}

    def owner_name(self) -> str:
        """Who owns it, for people: assignedTo, then UPN, then email."""
        owner = self.owner
        for key in ("assignedTo", "userPrincipalName", "email"):
            if isinstance(owner.get(key), str) and owner[key]:
                return str(owner[key])
        return ""

    def fingerprint(self) -> str:
        """A hash of what destinations are told (title, severity, status, owner...).

        Labels are left out: the bridge's own tags must not look like news. New alerts
        and comments count (``additionalData``'s counts): the whole incident is what
        destinations are told, and entities arrive with alerts.
        """
        content = {key: self.properties.get(key) for key in FINGERPRINT_FIELDS}
        content["owner"] = self.owner_name()
        additional = self.properties.get("additionalData")
        if isinstance(additional, dict):
            for key in COUNTED:
                content[key] = additional.get(key)
        text = json.dumps(content, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
