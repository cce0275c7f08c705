"""azd postprovision hook: grant the app identity its Microsoft Graph application permission.

A ``graph`` incident source (``incidentSources``) reads Microsoft Graph's security
incidents, which needs the application permission ``SecurityIncident.Read.All``, or
``SecurityIncident.ReadWrite.All`` when anything is written back (main.bicep's output
``GRAPH_INCIDENT_PERMISSION``; empty when no Graph source is configured). An application
permission is an app role assignment on the Microsoft Graph service principal, made by
``POST /servicePrincipals/{graph}/appRoleAssignedTo`` with the signed-in user's token: it
takes a tenant administrator (Privileged Role Administrator, Application Administrator or
Cloud Application Administrator, with ``AppRoleAssignment.ReadWrite.All``). Bicep's
Microsoft Graph extension could declare it, but checkov's parser and the vendored ARM types
the infra tests check against cannot read it, and it needs the same administrator anyway.

Without those rights the hook prints the command an administrator runs and exits 0: the
rest of the deployment works, and ``/api/health`` shows ``graph:permissions`` failing
until the grant is made. Already granted: nothing is done.

Standard library only: azd runs it with the machine's Python (azure.yaml ``hooks``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"  # Microsoft Graph's well-known app id
GRAPH = "https://graph.microsoft.com/v1.0"
PERMISSION = "GRAPH_INCIDENT_PERMISSION"
PRINCIPAL = "AZURE_IDENTITY_PRINCIPAL_ID"

Runner = Callable[[Sequence[str]], str]


def run(command: Sequence[str]) -> str:
    """Run a CLI command and return its standard output (raises when it fails)."""
    completed = subprocess.run(list(command), capture_output=True, text=True, check=True)  # noqa: S603
    return completed.stdout


def app_role_id(graph_principal: Mapping[str, Any], permission: str) -> str:
    """The id of Graph's application role called ``permission``.

    Raises:
        LookupError: Graph defines no such application role.
    """
    for role in graph_principal.get("appRoles") or []:
        if role.get("value") == permission and "Application" in (
            role.get("allowedMemberTypes") or []
        ):
            return str(role["id"])
    raise LookupError(f"Microsoft Graph has no application permission {permission}")


def grant_command(graph_id: str, principal_id: str, role_id: str) -> list[str]:
    """``az rest`` granting app role ``role_id`` of Graph to ``principal_id``."""
    body = {"principalId": principal_id, "resourceId": graph_id, "appRoleId": role_id}
    return [
        "az",
        "rest",
        "--method",
        "POST",
        "--url",
        f"{GRAPH}/servicePrincipals/{graph_id}/appRoleAssignedTo",
        "--headers",
        "Content-Type=application/json",
        "--body",
        json.dumps(body),
    ]


def main(environ: Mapping[str, str], runner: Runner = run) -> str:
    """Grant the permission if one is needed and missing; what was done, in one word
    (``none``, ``present``, ``granted`` or ``manual``)."""
    permission = environ.get(PERMISSION, "")
    principal_id = environ.get(PRINCIPAL, "")
    if not permission or not principal_id:
        print("No graph incident source: no Microsoft Graph permission is needed")
        return "none"
    try:
        graph = json.loads(
            runner(["az", "ad", "sp", "show", "--id", GRAPH_APP_ID, "--output", "json"])
        )
        role_id = app_role_id(graph, permission)
        listing = json.loads(
            runner(
                [
                    "az",
                    "rest",
                    "--method",
                    "GET",
                    "--url",
                    f"{GRAPH}/servicePrincipals/{principal_id}/appRoleAssignments",
                ]
            )
        )
        if any(a.get("appRoleId") == role_id for a in listing.get("value") or []):
            print(f"The identity already holds {permission} on Microsoft Graph")
            return "present"
        runner(grant_command(str(graph["id"]), principal_id, role_id))
    except (OSError, subprocess.CalledProcessError, LookupError, ValueError, KeyError) as error:
        print(
            f"Could not grant {permission} on Microsoft Graph ({error}). A tenant administrator "
            f"grants it to the identity (object id {principal_id}): see docs/deploy.md, "
            "'Microsoft Graph permission'. The graph incident sources stay off until then."
        )
        return "manual"
    print(f"Granted {permission} on Microsoft Graph to the identity {principal_id}")
    return "granted"


if __name__ == "__main__":
    main(os.environ)
    sys.exit(0)
