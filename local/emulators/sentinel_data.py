"""Fixed data of the Sentinel emulator: resource ids, seeded alert/entity shapes, roles.

Alert and entity shapes follow the spec examples in the reference
(``sentinel_incident_alerts.json``, ``sentinel_incident_entities.json``) with ids rewritten
to the emulated workspace. The role actions are the documented built-in role definitions
(MicrosoftDocs/azure-docs ``articles/role-based-access-control/built-in-roles/security.md``:
Microsoft Sentinel Reader ``8d289c81-…`` and Responder ``3e150937-…``), as data.
Assumed: the action names the emulator checks per operation (``ACTIONS``), and that Reader
may call the alerts/entities POSTs (the reference marks this as not confirmed).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any, Literal

RESOURCE_TYPE = "Microsoft.SecurityInsights/incidents"
Role = Literal["responder", "reader", "none"]

# The action each operation needs (assumed names, in the documented action namespace).
ACTIONS = {
    "list": "Microsoft.SecurityInsights/incidents/read",
    "get": "Microsoft.SecurityInsights/incidents/read",
    "put": "Microsoft.SecurityInsights/incidents/write",
    "comment": "Microsoft.SecurityInsights/incidents/comments/write",
    "comments": "Microsoft.SecurityInsights/incidents/comments/read",
    "alerts": "Microsoft.SecurityInsights/incidents/alerts/read",
    "entities": "Microsoft.SecurityInsights/incidents/entities/read",
}

_COMMON_ACTIONS = [
    "Microsoft.OperationalInsights/workspaces/analytics/query/action",
    "Microsoft.OperationalInsights/workspaces/*/read",
    "Microsoft.OperationalInsights/workspaces/savedSearches/read",
    "Microsoft.OperationsManagement/solutions/read",
    "Microsoft.OperationalInsights/workspaces/query/read",
    "Microsoft.OperationalInsights/workspaces/query/*/read",
    "Microsoft.OperationalInsights/querypacks/*/read",
    "Microsoft.OperationalInsights/workspaces/dataSources/read",
    "Microsoft.Insights/workbooks/read",
    "Microsoft.Insights/myworkbooks/read",
    "Microsoft.Authorization/*/read",
    "Microsoft.Insights/alertRules/*",
    "Microsoft.Resources/deployments/*",
    "Microsoft.Resources/subscriptions/resourceGroups/read",
    "Microsoft.Support/*",
]
_CONFIDENTIAL = [
    "Microsoft.SecurityInsights/ConfidentialWatchlists/*",
    "Microsoft.OperationalInsights/workspaces/query/ConfidentialWatchlist/*",
]
ROLE_PERMISSIONS: dict[Role, list[dict[str, list[str]]]] = {
    "reader": [
        {
            "actions": [
                "Microsoft.SecurityInsights/*/read",
                "Microsoft.SecurityInsights/dataConnectorsCheckRequirements/action",
                "Microsoft.SecurityInsights/threatIntelligence/indicators/query/action",
                "Microsoft.SecurityInsights/threatIntelligence/queryIndicators/action",
                "Microsoft.OperationalInsights/workspaces/LinkedServices/read",
                "Microsoft.Resources/templateSpecs/*/read",
                *_COMMON_ACTIONS,
            ],
            "notActions": list(_CONFIDENTIAL),
            "dataActions": [],
            "notDataActions": [],
        }
    ],
    "responder": [
        {
            "actions": [
                "Microsoft.SecurityInsights/*/read",
                "Microsoft.SecurityInsights/dataConnectorsCheckRequirements/action",
                "Microsoft.SecurityInsights/automationRules/*",
                "Microsoft.SecurityInsights/cases/*",
                "Microsoft.SecurityInsights/incidents/*",
                "Microsoft.SecurityInsights/entities/runPlaybook/action",
                "Microsoft.SecurityInsights/threatIntelligence/indicators/appendTags/action",
                "Microsoft.SecurityInsights/threatIntelligence/indicators/query/action",
                "Microsoft.SecurityInsights/threatIntelligence/queryIndicators/action",
                *_COMMON_ACTIONS,
            ],
            "notActions": [
                "Microsoft.SecurityInsights/cases/*/Delete",
                "Microsoft.SecurityInsights/incidents/*/Delete",
                *_CONFIDENTIAL,
            ],
            "dataActions": [],
            "notDataActions": [],
        }
    ],
    "none": [],
}


def _pattern_matches(pattern: str, action: str) -> bool:
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, action, re.IGNORECASE) is not None


def role_allows(role: Role, action: str) -> bool:
    """Whether ``role`` grants ``action``: some ``actions`` pattern matches, no ``notActions``.

    ``*`` matches any characters and matching ignores case, as in ARM role definitions.
    """
    return any(
        any(_pattern_matches(p, action) for p in grant["actions"])
        and not any(_pattern_matches(p, action) for p in grant["notActions"])
        for grant in ROLE_PERMISSIONS[role]
    )


@dataclass(frozen=True)
class WorkspaceRef:
    """The subscription, resource group and workspace the emulator answers for."""

    subscription_id: str
    resource_group: str
    workspace: str

    @property
    def workspace_id(self) -> str:
        """The workspace's ARM id."""
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.OperationalInsights/workspaces/{self.workspace}"
        )

    @property
    def sentinel_base(self) -> str:
        """The Microsoft.SecurityInsights prefix under the workspace."""
        return f"{self.workspace_id}/providers/Microsoft.SecurityInsights"

    def incident_id(self, name: str) -> str:
        """An incident's ARM id."""
        return f"{self.sentinel_base}/incidents/{name}"

    def portal_url(self, name: str) -> str:
        """The ``incidentUrl`` shape of the reference examples."""
        return (
            "https://portal.azure.com/#asset/Microsoft_Azure_Security_Insights/Incident"
            + self.incident_id(name)
        )

    def alert_rule_id(self) -> str:
        """A stable analytics-rule id for ``relatedAnalyticRuleIds``."""
        rule = uuid.uuid5(uuid.NAMESPACE_URL, self.workspace_id)
        return f"{self.sentinel_base}/alertRules/{rule}"


def default_alert(workspace: WorkspaceRef, incident: dict[str, Any]) -> dict[str, Any]:
    """One SecurityAlert like the spec example, timed at the incident's creation."""
    alert_id = str(uuid.uuid4())
    when = incident["createdTimeUtc"]
    return {
        "id": f"{workspace.sentinel_base}/Entities/{alert_id}",
        "name": alert_id,
        "type": "Microsoft.SecurityInsights/Entities",
        "kind": "SecurityAlert",
        "properties": {
            "systemAlertId": alert_id,
            "tactics": list(incident["additionalData"]["tactics"]),
            "alertDisplayName": incident["title"],
            "confidenceLevel": "Unknown",
            "severity": incident["severity"],
            "vendorName": "Microsoft",
            "productName": "Azure Sentinel",
            "alertType": "EmulatedRule",
            "processingEndTime": when,
            "status": "New",
            "endTimeUtc": when,
            "startTimeUtc": when,
            "timeGenerated": when,
            "resourceIdentifiers": [
                {
                    "type": "LogAnalytics",
                    "workspaceId": str(uuid.uuid5(uuid.NAMESPACE_URL, workspace.workspace_id)),
                    "subscriptionId": workspace.subscription_id,
                    "resourceGroup": workspace.resource_group,
                }
            ],
            "additionalData": {"AlertMessageEnqueueTime": when},
            "friendlyName": incident["title"],
        },
    }


def default_entity(workspace: WorkspaceRef) -> dict[str, Any]:
    """One Account entity like the spec example."""
    entity_id = str(uuid.uuid4())
    return {
        "id": f"{workspace.sentinel_base}/Entities/{entity_id}",
        "name": entity_id,
        "type": "Microsoft.SecurityInsights/Entities",
        "kind": "Account",
        "properties": {
            "friendlyName": "administrator",
            "accountName": "administrator",
            "ntDomain": "domain",
        },
    }


def entities_body(entities: list[dict[str, Any]]) -> dict[str, Any]:
    """The entities POST answer: ``entities`` plus a ``metaData`` count per kind."""
    counts: dict[str, int] = {}
    for entity in entities:
        kind = str(entity.get("kind", "Unknown"))
        counts[kind] = counts.get(kind, 0) + 1
    return {
        "entities": entities,
        "metaData": [{"entityKind": kind, "count": count} for kind, count in counts.items()],
    }
