"""The Graph security emulator's data: incidents with alerts and comments, and their enums.

No HTTP here (:mod:`local.emulators.graph` serves it). Shapes and enum values follow
Microsoft's v1.0 docs (``security-incident.md``, ``security-incident-update.md``,
``security-incident-post-comments.md``, ``security-alert.md``): ``incidentStatus``
(``active``, ``resolved``, ``inProgress``, ``redirected``, ``awaitingAction``),
``alertClassification``, ``alertDetermination`` (the union of the resource page's and the
update page's lists, which differ), ``alertSeverity``; ``alertComment`` as
``{comment, createdByDisplayName, createdDateTime}``.
Assumed: a comment does not change ``lastUpdateDateTime``; a PATCH does.
"""

from __future__ import annotations

import copy
import itertools
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

STATUSES = ("active", "resolved", "inProgress", "redirected", "awaitingAction")
WRITABLE_STATUSES = ("active", "resolved", "inProgress")
CLASSIFICATIONS = ("unknown", "falsePositive", "truePositive", "informationalExpectedActivity")
DETERMINATIONS = (
    "unknown",
    "apt",
    "malware",
    "securityPersonnel",
    "securityTesting",
    "unwantedSoftware",
    "other",
    "multiStagedAttack",
    "compromisedUser",
    "compromisedAccount",
    "phishing",
    "maliciousUserActivity",
    "clean",
    "notMalicious",
    "insufficientData",
    "notEnoughDataToValidate",
    "confirmedUserActivity",
    "lineOfBusinessApplication",
)
SEVERITIES = ("unknown", "informational", "low", "medium", "high")
WRITABLE = {"status", "assignedTo", "classification", "determination", "customTags"}


class GraphError(Exception):
    """An answer other than success: status, Graph's error code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def graph_time(moment: datetime) -> str:
    """Graph's timestamp form: seven fractional digits and ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


class GraphIncidentStore:
    """One tenant's security incidents."""

    def __init__(self, tenant_id: str, clock: Callable[[], datetime]) -> None:
        self.tenant_id = tenant_id
        self._clock = clock
        self._lock = threading.Lock()
        self._incidents: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(2972395)
        self._last = datetime.min.replace(tzinfo=UTC)

    def _now(self) -> str:
        # Strictly increasing, so every change is a new version even within one tick.
        moment = max(self._clock(), self._last + timedelta(microseconds=1))
        self._last = moment
        return graph_time(moment)

    def seed(self, **fields: Any) -> dict[str, Any]:
        """An incident as Defender would create it (active, medium, one alert by default)."""
        with self._lock:
            incident_id = str(fields.pop("id", None) or next(self._ids))
            now = self._now()
            created = fields.pop("createdDateTime", now)
            if isinstance(created, datetime):
                created = graph_time(created)
            incident: dict[str, Any] = {
                "@odata.type": "#microsoft.graph.security.incident",
                "id": incident_id,
                "incidentWebUrl": f"https://security.microsoft.com/incidents/{incident_id}"
                f"?tid={self.tenant_id}",
                "redirectIncidentId": None,
                "tenantId": self.tenant_id,
                "displayName": "Multi-stage incident on one endpoint",
                "description": "",
                "createdDateTime": created,
                "lastUpdateDateTime": now,
                "assignedTo": None,
                "classification": "unknown",
                "determination": "unknown",
                "status": "active",
                "severity": "medium",
                "customTags": [],
                "systemTags": [],
                "comments": [],
                "alerts": [self._alert(incident_id, created)],
            }
            incident.update(fields)
            self._incidents[incident_id] = incident
            return copy.deepcopy(incident)

    def update(self, incident_id: str, **changes: Any) -> dict[str, Any]:
        """An analyst's change in the portal: a new ``lastUpdateDateTime``."""
        with self._lock:
            incident = self._get(incident_id)
            incident.update(changes)
            incident["lastUpdateDateTime"] = self._now()
            return copy.deepcopy(incident)

    def all(self) -> list[dict[str, Any]]:
        """Every incident (copies, alerts included)."""
        with self._lock:
            return copy.deepcopy(list(self._incidents.values()))

    def get(self, incident_id: str) -> dict[str, Any]:
        """One incident (a copy, alerts included).

        Raises:
            GraphError: 404.
        """
        with self._lock:
            return copy.deepcopy(self._get(incident_id))

    def patch(self, incident_id: str, body: object) -> dict[str, Any]:
        """``PATCH /security/incidents/{id}``: only the writable properties, checked.

        Raises:
            GraphError: 400 for a property or value Graph would refuse, 404.
        """
        if not isinstance(body, dict):
            raise GraphError(400, "BadRequest", "The request body must be a JSON object.")
        unknown = sorted(set(body) - WRITABLE - {"@odata.type"})
        if unknown:
            raise GraphError(400, "BadRequest", f"Properties not writable: {', '.join(unknown)}.")
        for key, allowed in (
            ("status", WRITABLE_STATUSES),
            ("classification", CLASSIFICATIONS),
            ("determination", DETERMINATIONS),
        ):
            if key in body and body[key] not in allowed:
                raise GraphError(400, "BadRequest", f"Invalid value for {key}: {body[key]!r}.")
        tags = body.get("customTags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise GraphError(400, "BadRequest", "customTags must be a list of strings.")
        if not isinstance(body.get("assignedTo", ""), str | None):
            raise GraphError(400, "BadRequest", "assignedTo must be a string or null.")
        with self._lock:
            incident = self._get(incident_id)
            incident.update({k: v for k, v in body.items() if k in WRITABLE})
            incident["lastUpdateDateTime"] = self._now()
            return copy.deepcopy(incident)

    def comment(self, incident_id: str, body: object, author: str) -> list[dict[str, Any]]:
        """``POST .../comments``: append one ``alertComment``; every comment after it.

        Raises:
            GraphError: 400 without a ``comment`` string, 404.
        """
        text = body.get("comment") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text:
            raise GraphError(400, "BadRequest", "The comment parameter is required.")
        with self._lock:
            incident = self._get(incident_id)
            incident["comments"].append(
                {
                    "@odata.type": "microsoft.graph.security.alertComment",
                    "comment": text,
                    "createdByDisplayName": author,
                    "createdDateTime": graph_time(self._clock()),
                }
            )
            return copy.deepcopy(incident["comments"])

    def clear(self) -> None:
        """Forget every incident."""
        with self._lock:
            self._incidents.clear()

    def _get(self, incident_id: str) -> dict[str, Any]:
        incident = self._incidents.get(incident_id)
        if incident is None:
            raise GraphError(404, "NotFound", f"Incident {incident_id} was not found.")
        return incident

    def _alert(self, incident_id: str, created: str) -> dict[str, Any]:
        alert_id = f"da{uuid.uuid4().int % 10**18}_{uuid.uuid4().int % 10**9}"
        return {
            "@odata.type": "#microsoft.graph.security.alert",
            "id": alert_id,
            "providerAlertId": alert_id,
            "incidentId": incident_id,
            "status": "new",
            "severity": "medium",
            "classification": "unknown",
            "determination": "unknown",
            "serviceSource": "microsoftDefenderForEndpoint",
            "detectionSource": "antivirus",
            "tenantId": self.tenant_id,
            "title": "Suspicious execution of hidden file",
            "category": "DefenseEvasion",
            "mitreTechniques": ["T1564.001"],
            "createdDateTime": created,
            "lastUpdateDateTime": created,
            "firstActivityDateTime": created,
            "lastActivityDateTime": created,
            "comments": [],
            "evidence": [
                {
                    "@odata.type": "#microsoft.graph.security.deviceEvidence",
                    "deviceDnsName": "ws-042.contoso.local",
                    "verdict": "unknown",
                },
                {
                    "@odata.type": "#microsoft.graph.security.userEvidence",
                    "userAccount": {"userPrincipalName": "kai@contoso.com"},
                    "verdict": "unknown",
                },
            ],
        }
