"""The plumbing under ``shared.adapters.graph``: an azure-core pipeline to Microsoft Graph
with the identity's token (no SDK), the token's application roles, and ``Retry-After``.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime

from azure.core import PipelineClient
from azure.core.credentials import TokenCredential
from azure.core.pipeline.policies import (
    BearerTokenCredentialPolicy,
    HeadersPolicy,
    RetryPolicy,
    UserAgentPolicy,
)
from azure.core.pipeline.transport import RequestsTransport
from azure.core.rest import HttpRequest, HttpResponse

from shared.adapters.http_answers import http_date
from shared.config.incidents import DEFAULT_GRAPH_ENDPOINT, IncidentSettings

READ_ROLES = ("SecurityIncident.Read.All", "SecurityIncident.ReadWrite.All")
WRITE_ROLE = "SecurityIncident.ReadWrite.All"


def graph_scope(endpoint: str) -> str:
    """The token scope for Graph at ``endpoint``: itself for ``graph.*`` hosts (national
    clouds), else the global service's (a local emulator)."""
    host = endpoint.split("://", 1)[-1].split("/", 1)[0]
    audience = endpoint.rstrip("/") if host.startswith("graph.") else DEFAULT_GRAPH_ENDPOINT
    return audience + "/.default"


def build_pipeline(settings: IncidentSettings, credential: TokenCredential) -> GraphClient:
    """An azure-core pipeline to Graph with the identity's token (no SDK)."""
    scope = graph_scope(settings.graph_endpoint)
    client: PipelineClient[HttpRequest, HttpResponse] = PipelineClient(
        base_url=settings.graph_endpoint,
        policies=[
            HeadersPolicy(),
            UserAgentPolicy("sentinel-bridge"),
            RetryPolicy(retry_total=2, retry_status=0),
            BearerTokenCredentialPolicy(credential, scope),
        ],
        transport=RequestsTransport(connection_timeout=5, read_timeout=30),
    )
    return GraphClient(client, credential, scope)


class GraphClient:
    """The pipeline, and the credential (for the roles in its token)."""

    def __init__(
        self,
        client: PipelineClient[HttpRequest, HttpResponse],
        credential: TokenCredential,
        scope: str,
    ) -> None:
        self.client = client
        self.credential = credential
        self.scope = scope


def token_roles(token: str) -> list[str]:
    """The ``roles`` claim of a JWT (read, not verified: Graph verifies it)."""
    parts = token.split(".")
    if len(parts) < 2:
        return []
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError):
        return []
    roles = claims.get("roles") if isinstance(claims, dict) else None
    return [r for r in roles if isinstance(r, str)] if isinstance(roles, list) else []


def retry_after_seconds(value: str | None) -> float | None:
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    moment = http_date(text)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds()) if moment else None
