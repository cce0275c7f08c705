"""The azd postprovision hook: the Graph permission for graph incident sources, granted once."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence

from tests.azd_hooks import load_hook
from tests.infra.bicep import MAIN, REPO, parse

READ = "45cc0394-0000-4000-8000-00000000aaaa"
WRITE = "34bf0e97-0000-4000-8000-00000000bbbb"
GRAPH_SP = {
    "id": "graph-sp",
    "appRoles": [
        {"id": READ, "value": "SecurityIncident.Read.All", "allowedMemberTypes": ["Application"]},
        {
            "id": WRITE,
            "value": "SecurityIncident.ReadWrite.All",
            "allowedMemberTypes": ["Application"],
        },
    ],
}
ENV = {
    "GRAPH_INCIDENT_PERMISSION": "SecurityIncident.ReadWrite.All",
    "AZURE_IDENTITY_PRINCIPAL_ID": "mi",
}


hook = load_hook("postprovision")


class FakeAz:
    """Answers ``az ad sp show`` and the assignment listing; records every command."""

    def __init__(self, assigned: list[str], *, refuse_grant: bool = False) -> None:
        self.assigned = assigned
        self.refuse_grant = refuse_grant
        self.commands: list[list[str]] = []

    def __call__(self, command: Sequence[str]) -> str:
        self.commands.append(list(command))
        if command[:3] == ["az", "ad", "sp"]:
            return json.dumps(GRAPH_SP)
        if "GET" in command:
            return json.dumps({"value": [{"appRoleId": r} for r in self.assigned]})
        if self.refuse_grant:
            raise subprocess.CalledProcessError(1, list(command), "Authorization_RequestDenied")
        return "{}"


def test_the_permission_is_granted_on_graphs_service_principal_once() -> None:
    """Missing: one POST to Graph's appRoleAssignedTo naming the identity and the role."""
    az = FakeAz([])
    assert hook.main(ENV, az) == "granted"
    grant = az.commands[-1]
    assert grant[grant.index("--url") + 1].endswith("/servicePrincipals/graph-sp/appRoleAssignedTo")
    body = json.loads(grant[grant.index("--body") + 1])
    assert body == {"principalId": "mi", "resourceId": "graph-sp", "appRoleId": WRITE}
    again = FakeAz([WRITE])
    assert hook.main(ENV, again) == "present"
    assert not any("POST" in c for c in again.commands)


def test_without_a_graph_source_or_an_administrator_nothing_fails() -> None:
    """No graph source: nothing asked. Refused (not an administrator): told, exit 0."""
    az = FakeAz([])
    assert hook.main({**ENV, "GRAPH_INCIDENT_PERMISSION": ""}, az) == "none"
    assert az.commands == []
    assert hook.main(ENV, FakeAz([], refuse_grant=True)) == "manual"


def test_the_template_names_the_permission_the_hook_reads() -> None:
    """main.bicep outputs the permission and the principal; azure.yaml runs the hook."""
    outputs = parse(MAIN)["outputs"]
    assert {"GRAPH_INCIDENT_PERMISSION", "AZURE_IDENTITY_PRINCIPAL_ID"} <= set(outputs)
    text = json.dumps(outputs["GRAPH_INCIDENT_PERMISSION"])
    assert "SecurityIncident.ReadWrite.All" in text
    assert "SecurityIncident.Read.All" in text
    assert "run: python3 infra/hooks/postprovision.py" in (REPO / "azure.yaml").read_text("utf-8")
