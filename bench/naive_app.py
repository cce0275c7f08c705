"""The baseline relay the issue names: bcrypt on every request and one upload per event,
which is what Fig's connector and the Azure-Sentinel function connectors do. Its clients
and the hash are cached like ours, so the comparison isolates those two choices (and a
synchronous handler). Used only by the benchmark; never deployed.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import azure.functions as func
import bcrypt

from shared.auth.fig import fig_prehash

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@cache
def clients() -> tuple[Any, str]:
    from azure.identity import ManagedIdentityCredential
    from azure.keyvault.secrets import SecretClient
    from azure.monitor.ingestion import LogsIngestionClient

    credential = ManagedIdentityCredential(client_id=os.environ["AZURE_CLIENT_ID"])
    vault = SecretClient(os.environ["KEY_VAULT_URI"], credential, verify_challenge_resource=False)
    stored_hash = vault.get_secret("fig-secret-hash").value or ""
    return LogsIngestionClient(os.environ["LOGS_INGESTION_ENDPOINT"], credential), stored_hash


@app.route(route="fig/{event}", methods=["POST"])
def naive_fig(req: func.HttpRequest) -> func.HttpResponse:
    """bcrypt, then one upload for this one event."""
    ingestion, stored_hash = clients()
    secret = (req.headers.get("Authorization") or "").rpartition(" ")[2]
    if not bcrypt.checkpw(fig_prehash(secret), stored_hash.encode()):
        return func.HttpResponse(status_code=401)
    body = req.get_json()
    row = {
        "TimeGenerated": body["Timestamp"],
        "EventType": req.route_params["event"],
        "UserName": body.get("Username"),
        "Details": body,
    }
    ingestion.upload(os.environ["LOGS_INGESTION_DCR_ID"], "Custom-FigEvents", [row])
    return func.HttpResponse(status_code=202)
