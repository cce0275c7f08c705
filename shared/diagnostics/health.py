"""``GET /api/health``: is the bridge able to do its job, and if not, what to do about it.

Each check says what it looked at and, when it fails, the operator's next step. Nothing
here writes a row: a stream is probed with an empty batch (auth, role, DCR and stream are
all checked by the service before it would look at rows).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from shared.config.incidents import DEFAULT_SOURCE
from shared.config.settings import Settings
from shared.diagnostics.checks import ROLE_PROPAGATION, Check, HealthReport
from shared.diagnostics.incidents import incident_checks
from shared.errors import ConfigError, FeatureOff, SecretMissing, UpstreamUnavailable
from shared.incidents.fleet import IncidentFleet
from shared.incidents.forward import Forwarder
from shared.ports import DeadLetters, RetryQueue, RowSink, SecretStore
from shared.rows.schema import TABLES_DIR, load_table
from shared.telemetry.bridge_health import health_summary

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

logger = logging.getLogger(__name__)

KEY_VAULT_AUDIENCE = "https://vault.azure.net"

_INGESTION_ACTIONS = {
    401: "The token was refused: check LOGS_INGESTION_AUDIENCE for your cloud.",
    403: "Give the app's identity Monitoring Metrics Publisher on the DCR; "
    + ROLE_PROPAGATION
    + ".",
    404: "The DCR or stream was not found: check LOGS_INGESTION_DCR_ID, and that the DCR "
    "declares the stream (redeploy infra/ after adding a table).",
    413: "Unexpected: an empty batch was refused as too large.",
}
_VAULT_ACTIONS = {
    401: "The vault refused the token: check the identity and KEY_VAULT_URI.",
    403: "Give the app's identity Key Vault Secrets User on the vault; " + ROLE_PROPAGATION + ".",
}


@dataclass(frozen=True)
class HealthDeps:
    """What the checks look at: the clients, and which features are off and why."""

    settings: Settings
    credential: TokenCredential
    secrets: SecretStore
    sink: RowSink
    retry_queue: RetryQueue
    dead_letters: DeadLetters
    features_off: Mapping[str, tuple[str, ...]]
    forwarder: Callable[[], Forwarder]
    """Incident forwarding's forwarder; raises FeatureOff while its settings are wrong."""
    fleet: Callable[[], IncidentFleet] | None = None
    """Every incident source's forwarder (``INCIDENT_SOURCES``): each is checked alone."""


async def run_health(deps: Callable[[], HealthDeps]) -> HealthReport:
    """Run every check that the settings allow; settings problems are reported all at once."""
    try:
        bridge = deps()
    except ConfigError as error:
        return HealthReport(
            (Check("settings", ok=False, detail="; ".join(error.problems), action="Set them."),)
        )
    settings = bridge.settings
    checks = [Check("settings", ok=True, detail="the settings every feature shares are valid")]
    checks += [
        Check(
            f"feature:{feature}",
            ok=False,
            detail="; ".join(problems),
            action="Fix these settings; this feature is off, the others work.",
        )
        for feature, problems in sorted(bridge.features_off.items())
    ]
    checks += await asyncio.gather(
        _token(bridge, settings.logs_ingestion_audience),
        _token(bridge, KEY_VAULT_AUDIENCE),
        _secret(bridge, settings.fig_secret_hash_name, purpose="Fig's webhook secret hash"),
        *(
            _secret(bridge, name, purpose=purpose, optional=True)
            for name, purpose in _optional_secrets(settings)
        ),
        *(_stream(bridge, stream) for stream in _streams(settings)),
    )
    checks += await _incidents(bridge)
    summary = await health_summary(bridge.retry_queue, bridge.dead_letters, now=datetime.now(UTC))
    report = HealthReport(tuple(checks), summary)
    if not report.healthy:
        logger.warning("Health: failing checks %s", ", ".join(c.name for c in checks if not c.ok))
    return report


async def _token(bridge: HealthDeps, audience: str) -> Check:
    name = f"token:{audience}"
    scope = audience.rstrip("/") + "/.default"
    try:
        await asyncio.to_thread(bridge.credential.get_token, scope)
    except Exception as error:  # noqa: BLE001 - every credential failure is a failed check
        return Check(
            name,
            ok=False,
            detail=f"no token ({type(error).__name__})",
            action="Check that the function app has a managed identity and that "
            "AZURE_CLIENT_ID names it (user-assigned identities).",
        )
    return Check(name, ok=True, detail="managed identity issued a token")


async def _incidents(bridge: HealthDeps) -> list[Check]:
    """Sentinel incidents: token, list, write permission, destinations (or "off")."""
    try:
        forwarder = bridge.forwarder()
        fleet = bridge.fleet() if bridge.fleet is not None else None
    except FeatureOff:
        return []  # named by its feature check above
    if fleet is not None and set(fleet.forwarders) - {DEFAULT_SOURCE}:
        return await _sources(bridge, fleet)
    return await incident_checks(
        bridge.credential,
        forwarder,
        datetime.now(UTC),
        case_secret=bridge.settings.elastic_auth_name,
    )


async def _sources(bridge: HealthDeps, fleet: IncidentFleet) -> list[Check]:
    """Each source's checks, named ``source:<id>/<check>``: one failing fails only its own."""
    now = datetime.now(UTC)
    found = await asyncio.gather(
        *(
            incident_checks(
                bridge.credential, forwarder, now, case_secret=bridge.settings.elastic_auth_name
            )
            for forwarder in fleet.forwarders.values()
        )
    )
    return [
        replace(check, name=f"source:{source_id}/{check.name}")
        for source_id, checks in zip(fleet.forwarders, found, strict=True)
        for check in checks
    ]


def _optional_secrets(settings: Settings) -> list[tuple[str, str]]:
    """Secrets whose absence switches a source off rather than breaking the bridge."""
    secrets = [
        (settings.wallarm_token_name, "Wallarm's token (source off while absent)"),
        (settings.elastic_auth_name, "Kibana's credentials (source off while absent)"),
    ]
    for source, config in settings.ingest.sources.items():
        secrets += [
            (name, f"a signing secret of ingest source {source}") for name in config.secret_names
        ]
    return secrets


def _streams(settings: Settings) -> list[str]:
    """Every stream the bridge writes: each table file's, and any ingest source's."""
    streams = {load_table(path.stem).stream for path in TABLES_DIR.glob("*.json")}
    streams |= {config.stream for config in settings.ingest.sources.values()}
    return sorted(streams)


async def _secret(
    bridge: HealthDeps, secret_name: str, *, purpose: str, optional: bool = False
) -> Check:
    name = f"keyvault:{secret_name}"
    try:
        await bridge.secrets.probe(secret_name)
    except SecretMissing:
        if optional:
            return Check(name, ok=True, detail=f"not set: {purpose}")
        return Check(
            name,
            ok=False,
            detail="secret not found",
            action=f"Put {purpose} into Key Vault secret '{secret_name}'.",
        )
    except UpstreamUnavailable as error:
        return Check(
            name,
            ok=False,
            detail=error.message,
            action=_VAULT_ACTIONS.get(
                error.upstream_status or 0, "Check KEY_VAULT_URI and the vault's network rules."
            ),
        )
    return Check(name, ok=True, detail="readable")


async def _stream(bridge: HealthDeps, stream: str) -> Check:
    name = f"ingestion:{stream}"
    try:
        await bridge.sink.probe(stream)
    except UpstreamUnavailable as error:
        status = error.upstream_status
        if status == 400:  # past auth and DCR lookup; only the (empty) content was refused
            return Check(name, ok=True, detail="reachable (an empty batch was refused as data)")
        return Check(
            name,
            ok=False,
            detail=error.message,
            action=_INGESTION_ACTIONS.get(
                status or 0, "Check LOGS_INGESTION_ENDPOINT and the network path to it."
            ),
        )
    return Check(name, ok=True, detail="accepts data (probed with an empty batch)")
