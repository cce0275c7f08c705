"""``make run``: the bridge on the embedded local Azure, ready for a curl or a Fig server.

Starts Azurite, the emulators (managed identity, Key Vault, Logs Ingestion) and the local
functions host with a sample configuration; generates a Fig webhook secret and puts its
hash (Fig's own scheme, cost 11) into the emulated Key Vault; prints what to paste into
Fig and how to see the rows that landed. Ctrl-C stops everything.

``--smoke`` does all that on free ports, posts one Fig event through the host, checks that
its row reached the ingestion emulator, and exits: the test suite uses it to keep
``make run`` honest.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import secrets
import signal
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from local.azurite import Azurite
from local.emulators.stack import EmulatorStack
from local.host.process import LocalHostProcess
from local.host.supervisor import HostSupervisor
from shared.auth.fig import hash_fig_secret

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO_INGEST_SOURCES = {"demo": {"stream": "Custom-BridgeEvents", "secretNames": ["demo-whsec"]}}
SAMPLE_SETTINGS = REPO_ROOT / "local.settings.sample.json"


@dataclass(frozen=True)
class Ports:
    """Where everything listens (0: a free port)."""

    host: int = 7071
    identity: int = 7081
    keyvault: int = 7082
    ingestion: int = 7083
    sentinel: int = 7084
    signl4: int = 7085
    blob: int = 10000
    queue: int = 10001
    table: int = 10002
    logs: int = 7086
    graph: int = 7087


FREE_PORTS = Ports(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)


class LocalBridge:
    """Azurite, the emulators and the host, started and stopped together."""

    def __init__(
        self, state_dir: Path, ports: Ports, *, poll_schedule: str = "*/20 * * * * *"
    ) -> None:
        self.state_dir = state_dir
        self.ports = ports
        self.poll_schedule = poll_schedule
        self.fig_secret = str(uuid.uuid4())
        # The other sources' credentials, made fresh too, so every URL works at once.
        self.wallarm_token = secrets.token_hex(24)
        self.elastic_credentials = f"kibana:{secrets.token_urlsafe(18)}"
        self.ingest_secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
        self.signl4_callback_token = secrets.token_urlsafe(24)
        self.azurite = Azurite(
            state_dir / "azurite",
            blob_port=ports.blob,
            queue_port=ports.queue,
            table_port=ports.table,
        )
        self.emulators = EmulatorStack(
            state_dir / "emulators",
            identity_port=ports.identity,
            keyvault_port=ports.keyvault,
            ingestion_port=ports.ingestion,
            sentinel_port=ports.sentinel,
            signl4_port=ports.signl4,
            logs_port=ports.logs,
            graph_port=ports.graph,
        )
        self.host: LocalHostProcess | None = None
        self.supervisor: HostSupervisor | None = None

    def start(self) -> None:
        """Start everything; the host last, once its dependencies answer."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.azurite.start()
        self.emulators.start()
        # Fig shows the hash of a new secret; the bridge only ever holds that hash.
        self.emulators.keyvault.set_secret("fig-secret-hash", hash_fig_secret(self.fig_secret))
        self.emulators.keyvault.set_secret("wallarm-token", self.wallarm_token)
        self.emulators.keyvault.set_secret("elastic-webhook-auth", self.elastic_credentials)
        self.emulators.keyvault.set_secret("demo-whsec", self.ingest_secret)
        # SIGNL4: the stand-in's team secret, and the token its callbacks come back with.
        self.emulators.keyvault.set_secret("signl4-team-secret", self.emulators.signl4.team_secret)
        self.emulators.keyvault.set_secret("signl4-callback-token", self.signl4_callback_token)
        # Both kinds of incident source, one incident each, forwarded on the first poll.
        self.emulators.sentinel.seed_incident(title="Brute force on ws-01", severity="High")
        self.emulators.graph.seed_incident(displayName="Ransomware activity on ws-042")
        settings_path = self.state_dir / "local.settings.json"
        settings_path.write_text(json.dumps(self._settings(), indent=2))
        self.host = LocalHostProcess(
            # Passed as environment too, so they win over variables this shell may already
            # set (REQUESTS_CA_BUNDLE, for one), as app settings would in Azure.
            env=self._settings()["Values"],  # type: ignore[arg-type]
            port=self.ports.host,
            settings_path=settings_path,
            keys_path=self.state_dir / "function-keys.json",
            log_path=self.state_dir / "host.log",
        ).start()
        # A host that dies (SIGKILL, a crash) is started again, as the platform would.
        self.supervisor = HostSupervisor(self.host).start()

    def stop(self) -> None:
        """Stop the host, the emulators and Azurite (in that order)."""
        if self.supervisor is not None:
            self.supervisor.stop()
        if self.host is not None:
            self.host.close()
        self.emulators.stop()
        self.azurite.stop()

    def _settings(self) -> dict[str, object]:
        sample = json.loads(SAMPLE_SETTINGS.read_text())
        values = dict(sample["Values"])
        values.update(self.emulators.app_environment())
        values["AzureWebJobsStorage"] = self.azurite.connection_string
        values["INGEST_SOURCES"] = json.dumps(DEMO_INGEST_SOURCES)
        values["INCIDENT_POLL_SCHEDULE"] = self.poll_schedule  # often, to watch it happen
        values["INCIDENT_SOURCES"] = json.dumps(self.incident_sources())
        for name in (
            "SENTINEL_SUBSCRIPTION_ID",
            "SENTINEL_RESOURCE_GROUP",
            "SENTINEL_WORKSPACE_NAME",
        ):
            values[name] = ""  # listed in INCIDENT_SOURCES instead
        return {**sample, "Values": values}

    def incident_sources(self) -> list[dict[str, str]]:
        """The emulated Sentinel workspace (``default``: its state as before) and Graph."""
        emulators = self.emulators
        return [
            {
                "id": "default",
                "kind": "sentinel",
                "subscriptionId": emulators.sentinel_subscription_id,
                "resourceGroup": emulators.sentinel_resource_group,
                "workspace": emulators.sentinel_workspace_name,
            },
            {"id": "defender", "kind": "graph"},
        ]

    def banner(self) -> str:
        """What a person needs next."""
        assert self.host is not None
        base = f"http://localhost:{self.host.port}/api"
        ingestion = self.emulators.ingestion_endpoint
        return "\n".join(
            [
                "",
                "sentinel-bridge is running on the local Azure.",
                f"  Fig webhook base URL:  {base}/fig/   (Fig's Base URI must end with '/')",
                f"  Fig secret:            {self.fig_secret}",
                "                        (paste into Fig's webhook client; the vault has its hash)",
                f"  Wallarm:               {base}/wallarm   header X-Auth-Token: "
                f"{self.wallarm_token}",
                f"  Elastic alerts:        {base}/elastic/alerts   Basic auth "
                f"{self.elastic_credentials}",
                f"  Signed webhooks:       {base}/ingest/demo   Standard Webhooks secret "
                f"{self.ingest_secret}",
                f"  Elastic cases:         {base}/elastic/cases   (same Basic auth)",
                f"  OpenAPI:               {base}/openapi.json",
                f"  SIGNL4 callback:       {base}/signl4/{self.signl4_callback_token}",
                f"  Health:                curl -H 'x-functions-key: {self.host.function_key}' "
                f"{base}/health",
                f"  Rows that landed:      curl -k {ingestion}/_emulator/rows",
                f"  Dropped values:        curl -k {ingestion}/_emulator/errors",
                f"  Log Analytics query:   LogsQueryClient(endpoint="
                f"'{self.emulators.logs_query_endpoint}'), workspace "
                f"{self.emulators.workspace.customer_id}",
                f"  Host log:              {self.host.log_path}",
                "",
                "Send a failed login the way Fig does:",
                f"  curl -i {base}/fig/SecurityEvent \\",
                f"    -H 'Authorization: Secret {self.fig_secret}' \\",
                "    -H 'Content-Type: application/json; charset=utf-8' \\",
                f"    -d '{json.dumps(sample_event(), separators=(',', ':'))}'",
                "",
                "Seed a Sentinel incident; within 20 s it reaches the SIGNL4 stand-in:",
                f"  curl -k -X POST {self.emulators.arm_endpoint}/_emulator/incidents "
                """-d '{"title": "Brute force on ws-01", "severity": "High"}'""",
                f"  curl -k {self.emulators.signl4_webhook_base.removesuffix('/webhook/')}"
                "/_emulator/received",
                "Graph security incidents (Defender XDR) are a second source:",
                f"  curl -k {self.emulators.graph_endpoint}/_emulator/stats",
                "Then post SIGNL4's acknowledgement back (docs/sources/signl4.md) and watch the",
                f"incident change: curl -k {self.emulators.arm_endpoint}/_emulator/incidents",
                "",
                "Ctrl-C stops everything.",
            ]
        )


def sample_event(moment: datetime | None = None, username: str = "admin") -> dict[str, object]:
    """A failed Fig login, as Fig sends it, at ``moment`` (now by default)."""
    stamp = (moment or datetime.now(UTC)).isoformat().replace("+00:00", "Z")
    return {
        "EventType": "Login",
        "Timestamp": stamp,
        "Username": username,
        "Success": False,
        "IpAddress": "203.0.113.10",
        "Hostname": "ws-01",
        "FailureReason": "Invalid password",
        "Uri": "https://fig.example.com/security",
        "IsTest": False,
    }


def smoke(bridge: LocalBridge) -> None:
    """Post one event through the host and check its row landed; raise if not."""
    assert bridge.host is not None
    request = urllib.request.Request(  # noqa: S310 - a loopback URL built here
        bridge.host.url("/api/fig/SecurityEvent"),
        data=json.dumps(sample_event()).encode(),
        method="POST",
        headers={
            "Authorization": f"Secret {bridge.fig_secret}",
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        reply = json.loads(response.read())
        if response.status != 202:
            raise RuntimeError(f"expected 202, got {response.status}")
    stored = [r.row["EventId"] for r in bridge.emulators.ingestion.rows("Custom-FigEvents")]
    if stored != reply["eventIds"]:
        raise RuntimeError("the event's row did not land")
    print(f"smoke: 202 and 1 row in FigEvents_CL (EventId {stored[0]})")
    smoke_incident(bridge)


def smoke_incident(bridge: LocalBridge) -> None:
    """Seed an incident, see it reach SIGNL4, acknowledge it, see Sentinel change."""
    assert bridge.host is not None
    sentinel, signl4 = bridge.emulators.sentinel, bridge.emulators.signl4
    incident = sentinel.seed_incident(title="Brute force on ws-01", severity="High")
    _wait_for(
        lambda: any(r.body.get("X-S4-ExternalID") == incident["name"] for r in signl4.received()),
        "the incident to reach SIGNL4",
    )
    acknowledgement = {
        "eventType": 201,
        "eventRaisedUtc": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "user": {"username": "Rene", "mailaddress": "rene@example.com", "id": "u-1"},
        "alert": {"statusCode": 2, "externalEventId": incident["name"], "id": "a-1"},
        "id": str(uuid.uuid4()),
    }
    request = urllib.request.Request(  # noqa: S310 - a loopback URL built here
        bridge.host.url(f"/api/signl4/{bridge.signl4_callback_token}"),
        data=json.dumps(acknowledgement).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30):  # noqa: S310
        pass
    (after,) = [i for i in sentinel.incidents() if i["name"] == incident["name"]]
    if after["properties"]["status"] != "Active":
        raise RuntimeError("the acknowledgement did not make the incident Active")
    print("smoke: incident forwarded to SIGNL4, acknowledged, now Active in Sentinel")


def _wait_for(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.25)


def main(argv: list[str] | None = None) -> int:
    """``python -m local.run [--state-dir .local] [--free-ports] [--smoke]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state-dir", type=Path, default=REPO_ROOT / ".local")
    parser.add_argument("--free-ports", action="store_true", help="pick free ports")
    parser.add_argument("--smoke", action="store_true", help="post one event, check, exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    bridge = LocalBridge(
        args.state_dir,
        FREE_PORTS if args.free_ports else Ports(),
        poll_schedule="*/2 * * * * *" if args.smoke else "*/20 * * * * *",
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        bridge.start()
        print(bridge.banner(), flush=True)
        if args.smoke:
            smoke(bridge)
            return 0
        stop.wait()
    finally:
        bridge.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
