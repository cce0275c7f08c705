"""Runs the emulators in one background thread with its own asyncio loop.

Identity answers on plain HTTP (as the App Service endpoint does); Key Vault, Logs
Ingestion, Sentinel (ARM) and the SIGNL4 stand-in on HTTPS with a throwaway trustme
certificate, because the SDKs refuse bearer tokens over plain HTTP and SIGNL4 is HTTPS.
Sentinel and SIGNL4 are optional (on by default). Every server binds 127.0.0.1 only.
"""

from __future__ import annotations

import logging
import secrets
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Self

import certifi
from aiohttp import web

from local.emulators.graph import AUDIENCE as GRAPH_AUDIENCE
from local.emulators.graph import GraphEmulator
from local.emulators.identity import IdentityEmulator
from local.emulators.ingestion import DEFAULT_TABLES_DIR, IngestionEmulator, utc_now
from local.emulators.keyvault import KeyVaultEmulator
from local.emulators.query import LogsQueryEmulator
from local.emulators.sentinel import SentinelEmulator
from local.emulators.servers import HOST, Server, ServerLoop
from local.emulators.signl4 import WEBHOOK_PREFIX, Signl4Emulator
from local.emulators.workspace import LogAnalyticsWorkspace
from local.lifecycle import Service
from local.tls import CertPaths, make_certs, server_ssl_context

logger = logging.getLogger(__name__)

EmulatorName = Literal["identity", "keyvault", "ingestion", "sentinel", "signl4", "logs", "graph"]


class EmulatorStack(Service):
    """The local managed identity, Key Vault and Logs Ingestion endpoints.

    Args:
        state_dir: Where the TLS material goes (``<state_dir>/tls``).
        identity_port: Port for the identity endpoint; 0 picks a free one.
        keyvault_port: Port for Key Vault; 0 picks a free one.
        ingestion_port: Port for Logs Ingestion; 0 picks a free one.
        sentinel_port: Port for the Sentinel ARM endpoint; 0 picks a free one.
        signl4_port: Port for the SIGNL4 stand-in; 0 picks a free one.
        logs_port: Port for the Log Analytics query API; 0 picks a free one.
        enable_sentinel: Run the Sentinel ARM emulator.
        enable_signl4: Run the SIGNL4 stand-in.
        subscription_id: The Sentinel workspace's subscription; random by default.
        resource_group: The Sentinel workspace's resource group.
        workspace_name: The Sentinel (Log Analytics) workspace name.
        tables_dir: The table schemas the ingestion emulator declares as streams.
        tenant_id: Tenant of the tokens and the vault challenge; random by default.
        client_id: The user-assigned identity's client id; random by default.
        dcr_id: The DCR immutable id; random by default.
        clock: Aware "now" for tokens, secrets and TimeGenerated rules.
        fault_clock: Clock for fault windows (seconds).
    """

    def __init__(
        self,
        state_dir: Path,
        *,
        identity_port: int = 0,
        keyvault_port: int = 0,
        ingestion_port: int = 0,
        sentinel_port: int = 0,
        signl4_port: int = 0,
        logs_port: int = 0,
        enable_sentinel: bool = True,
        enable_signl4: bool = True,
        graph_port: int = 0,
        enable_graph: bool = True,
        subscription_id: str | None = None,
        resource_group: str = "rg-sentinel-local",
        workspace_name: str = "law-sentinel-local",
        tables_dir: Path = DEFAULT_TABLES_DIR,
        tenant_id: str | None = None,
        client_id: str | None = None,
        dcr_id: str | None = None,
        clock: Callable[[], datetime] = utc_now,
        fault_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.state_dir = state_dir
        self.tenant_id = tenant_id or str(uuid.uuid4())
        self.client_id = client_id or str(uuid.uuid4())
        self.dcr_id = dcr_id or f"dcr-{uuid.uuid4().hex}"
        self.identity_header = secrets.token_urlsafe(24)

        def epoch_clock() -> float:
            return clock().timestamp()

        self.identity = IdentityEmulator(
            tenant_id=self.tenant_id,
            client_id=self.client_id,
            header_secret=self.identity_header,
            clock=epoch_clock,
            fault_clock=fault_clock,
        )
        self.keyvault = KeyVaultEmulator(
            tenant_id=self.tenant_id, clock=epoch_clock, fault_clock=fault_clock
        )
        # One Log Analytics workspace: the DCR writes its tables, ARM manages them (tables,
        # migrate, saved searches) and the query endpoint (logs) reads them.
        self.workspace = LogAnalyticsWorkspace()
        self.ingestion = IngestionEmulator(
            dcr_id=self.dcr_id,
            tables_dir=tables_dir,
            clock=clock,
            fault_clock=fault_clock,
            workspace=self.workspace,
        )
        self.logs = LogsQueryEmulator(self.workspace, clock=clock)
        self.sentinel = SentinelEmulator(
            subscription_id=subscription_id or str(uuid.uuid4()),
            resource_group=resource_group,
            workspace=workspace_name,
            clock=clock,
            fault_clock=fault_clock,
            workspace_tables=self.workspace,
        )
        self.logs.resource_ids.add(self.sentinel.ref.workspace_id.lower())
        self.signl4 = Signl4Emulator(clock=clock, fault_clock=fault_clock)
        # Graph security incidents; the identity's Graph tokens carry the write permission
        # an admin would have consented to (tests revoke it to see the 403).
        self.graph = GraphEmulator(tenant_id=self.tenant_id, clock=clock, fault_clock=fault_clock)
        self.identity.grant_app_roles(GRAPH_AUDIENCE, "SecurityIncident.ReadWrite.All")
        self.enabled: set[EmulatorName] = {"identity", "keyvault", "ingestion", "logs"}
        self.enabled |= {"sentinel"} if enable_sentinel else set()
        self.enabled |= {"signl4"} if enable_signl4 else set()
        self.enabled |= {"graph"} if enable_graph else set()
        self._ports: dict[EmulatorName, int] = {
            "identity": identity_port,
            "keyvault": keyvault_port,
            "ingestion": ingestion_port,
            "sentinel": sentinel_port,
            "signl4": signl4_port,
            "logs": logs_port,
            "graph": graph_port,
        }
        self._certs: CertPaths | None = None
        self._servers = ServerLoop()

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Self:
        """Make the TLS material, start the loop thread and every enabled server."""
        if self._servers.running:
            raise RuntimeError("the stack is already running")
        certs = make_certs(self.state_dir / "tls")
        self._write_ca_bundle(certs)
        tls = server_ssl_context(certs)
        apps: dict[EmulatorName, Callable[[], web.Application]] = {
            "identity": self.identity.build_app,
            "keyvault": self.keyvault.build_app,
            "ingestion": self.ingestion.build_app,
            "sentinel": self.sentinel.build_app,
            "signl4": self.signl4.build_app,
            "logs": self.logs.build_app,
            "graph": self.graph.build_app,
        }
        self._certs = certs
        self._servers.start(
            Server(name, build_app, None if name == "identity" else tls, self._ports[name])
            for name, build_app in apps.items()
            if name in self.enabled
        )
        return self

    def stop(self) -> None:
        """Stop every server and the loop thread; safe to call twice."""
        self._servers.stop()

    def close(self) -> None:
        """The same as :meth:`stop`."""
        self.stop()

    def stop_emulator(self, name: EmulatorName) -> None:
        """Close one emulator's listener and connections: clients get connection refused."""
        self._servers.stop_server(name)
        logger.info("emulator %s stopped (port %d)", name, self.port(name))

    def start_emulator(self, name: EmulatorName) -> None:
        """Bring a stopped emulator back on the same port, with its state intact."""
        self._servers.start_server(name)
        logger.info("emulator %s started (port %d)", name, self.port(name))

    def reset(self) -> None:
        """Clear rows, errors, incidents, received alerts, counters and faults (secrets kept)."""
        self.identity.reset()
        self.keyvault.reset()
        self.ingestion.reset()
        self.sentinel.reset()
        self.signl4.reset()
        self.graph.reset()

    # -- endpoints -------------------------------------------------------------------------

    def port(self, name: EmulatorName) -> int:
        """The port an emulator listens on (known once started)."""
        return self._servers.port(name)

    @property
    def identity_endpoint(self) -> str:
        """``IDENTITY_ENDPOINT``: the token URL, plain HTTP."""
        return f"http://{HOST}:{self.port('identity')}{self.identity.path}"

    @property
    def vault_url(self) -> str:
        """The vault URL for ``SecretClient`` (``KEY_VAULT_URI``)."""
        return f"https://{HOST}:{self.port('keyvault')}/"

    @property
    def ingestion_endpoint(self) -> str:
        """The Logs Ingestion endpoint for ``LogsIngestionClient``."""
        return f"https://{HOST}:{self.port('ingestion')}"

    @property
    def arm_endpoint(self) -> str:
        """The ARM base URL for ``SecurityInsights(..., base_url=)`` (``ARM_ENDPOINT``)."""
        return f"https://{HOST}:{self.port('sentinel')}"

    @property
    def logs_query_endpoint(self) -> str:
        """The Log Analytics query API base for ``LogsQueryClient(endpoint=)``."""
        return f"https://{HOST}:{self.port('logs')}/v1"

    @property
    def sentinel_subscription_id(self) -> str:
        """The emulated Sentinel workspace's subscription id."""
        return self.sentinel.ref.subscription_id

    @property
    def sentinel_resource_group(self) -> str:
        """The emulated Sentinel workspace's resource group."""
        return self.sentinel.ref.resource_group

    @property
    def sentinel_workspace_name(self) -> str:
        """The emulated Sentinel workspace's name."""
        return self.sentinel.ref.workspace

    @property
    def graph_endpoint(self) -> str:
        """Microsoft Graph's stand-in (``GRAPH_ENDPOINT``), HTTPS."""
        return f"https://{HOST}:{self.port('graph')}"

    @property
    def signl4_webhook_base(self) -> str:
        """The SIGNL4 webhook base, ending with ``/webhook/``; append the team secret."""
        return f"https://{HOST}:{self.port('signl4')}{WEBHOOK_PREFIX}"

    @property
    def ca_path(self) -> Path:
        """The throwaway CA certificate alone (for ``connection_verify``)."""
        if self._certs is None:
            raise RuntimeError("start the stack first")
        return self._certs.ca_path

    @property
    def ca_bundle_path(self) -> Path:
        """certifi's roots plus the throwaway CA (for ``REQUESTS_CA_BUNDLE``)."""
        return self.state_dir / "tls" / "ca-bundle.pem"

    def app_environment(self) -> dict[str, str]:
        """The app settings that point the bridge at these emulators."""
        env = {
            "IDENTITY_ENDPOINT": self.identity_endpoint,
            "IDENTITY_HEADER": self.identity_header,
            "AZURE_CLIENT_ID": self.client_id,
            "REQUESTS_CA_BUNDLE": str(self.ca_bundle_path),
            "KEY_VAULT_URI": self.vault_url,
            "KEY_VAULT_VERIFY_CHALLENGE_RESOURCE": "false",
            "LOGS_INGESTION_ENDPOINT": self.ingestion_endpoint,
            "LOGS_INGESTION_DCR_ID": self.dcr_id,
            # The emulated destinations (SIGNL4, webhooks) listen on 127.0.0.1.
            "ALLOW_PRIVATE_DESTINATIONS": "true",
        }
        if "sentinel" in self.enabled:
            env["ARM_ENDPOINT"] = self.arm_endpoint
            env["SENTINEL_SUBSCRIPTION_ID"] = self.sentinel_subscription_id
            env["SENTINEL_RESOURCE_GROUP"] = self.sentinel_resource_group
            env["SENTINEL_WORKSPACE_NAME"] = self.sentinel_workspace_name
            env["LOG_ANALYTICS_ENDPOINT"] = self.logs_query_endpoint
        if "signl4" in self.enabled:
            env["SIGNL4_WEBHOOK_BASE"] = self.signl4_webhook_base
        if "graph" in self.enabled:
            env["GRAPH_ENDPOINT"] = self.graph_endpoint
        return env

    def describe(self) -> dict[str, Any]:
        """Endpoints, ids and environment, JSON-ready (``emulators.json``)."""
        return {
            "identity_endpoint": self.identity_endpoint,
            "vault_url": self.vault_url,
            "ingestion_endpoint": self.ingestion_endpoint,
            "dcr_id": self.dcr_id,
            "tenant_id": self.tenant_id,
            "client_id": self.client_id,
            "ca_path": str(self.ca_path),
            "streams": sorted(self.ingestion.streams),
            "arm_endpoint": self.arm_endpoint if "sentinel" in self.enabled else None,
            "signl4_webhook_base": (self.signl4_webhook_base if "signl4" in self.enabled else None),
            "signl4_team_secret": self.signl4.team_secret if "signl4" in self.enabled else None,
            "logs_query_endpoint": self.logs_query_endpoint,
            "workspace_id": self.workspace.customer_id,
            "graph_endpoint": self.graph_endpoint if "graph" in self.enabled else None,
            "env": self.app_environment(),
        }

    # -- internals -------------------------------------------------------------------------

    def _write_ca_bundle(self, certs: CertPaths) -> None:
        # REQUESTS_CA_BUNDLE replaces the default roots, so keep them: the app may call out.
        roots = Path(certifi.where()).read_bytes()
        self.ca_bundle_path.write_bytes(roots + b"\n" + certs.ca_path.read_bytes())
