"""Delivery benchmarks: compressed-size packing against the SDK's chunking, and coalescing.

Both measured against the ingestion emulator over HTTPS, which counts the requests and
the bytes it received; nothing is estimated.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from azure.identity import ManagedIdentityCredential
from azure.monitor.ingestion import LogsIngestionClient

from bench.load import run_load, security_event
from local.emulators.stack import EmulatorStack
from local.host.process import LocalHostProcess
from shared.adapters.ingestion import LogsIngestionSink
from shared.auth.fig import hash_fig_secret
from shared.sources.base import InboundRequest
from shared.sources.fig import SOURCE as FIG

STREAM = "Custom-FigEvents"


def _fig_rows(count: int) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    return [
        FIG.parse("SecurityEvent", InboundRequest("POST", {}, security_event(i), now)).rows[0]
        for i in range(count)
    ]


def bench_packing(*, events: int = 10_000) -> list[str]:
    """Requests and bytes for the same rows: the SDK's list upload vs this packer."""
    rows = _fig_rows(events)
    lines = [
        f"Packing: {events:,} Fig rows uploaded to the ingestion emulator",
        f"  {'':<34} {'requests':>9} {'wire KB':>9} {'KB/request':>11} {'seconds':>8}",
    ]
    with tempfile.TemporaryDirectory() as scratch, EmulatorStack(Path(scratch)) as stack:
        env = stack.app_environment()
        credential = _credential(env)
        client = LogsIngestionClient(
            env["LOGS_INGESTION_ENDPOINT"], credential, connection_verify=str(stack.ca_path)
        )
        for name, upload in (
            ("SDK default (1 MiB before gzip)", lambda: client.upload(stack.dcr_id, STREAM, rows)),
            (
                "sentinel-bridge (1 MB after gzip)",
                lambda: LogsIngestionSink(client, stack.dcr_id).upload(STREAM, rows),
            ),
        ):
            stack.ingestion.reset()
            started = time.perf_counter()
            upload()
            elapsed = time.perf_counter() - started
            stats = stack.ingestion.stats()["streams"][STREAM]
            landed = len(stack.ingestion.rows(STREAM))
            assert landed == events, f"{name}: {landed} of {events} rows landed"
            kb = stats["wire_bytes"] / 1000
            lines.append(
                f"  {name:<34} {stats['requests']:>9} {kb:>9.0f} "
                f"{kb / stats['requests']:>11.0f} {elapsed:>8.2f}"
            )
        credential.close()
        client.close()
    return lines


def _credential(env: dict[str, str]) -> ManagedIdentityCredential:
    # azure-identity reads the endpoint from the environment when the credential is made.
    os.environ.update({k: env[k] for k in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER")})
    return ManagedIdentityCredential(client_id=env["AZURE_CLIENT_ID"])


def bench_coalescing(*, events: int, senders: int) -> list[str]:
    """The same intake load with coalescing off and on (COALESCE_WINDOW_MS)."""
    lines = [
        f"Coalescing: {events:,} Fig webhooks from {senders} concurrent senders through the host",
        f"  {'':<24} {'events/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'uploads':>8} {'landed':>7}",
    ]
    secret = str(uuid.uuid4())
    with tempfile.TemporaryDirectory() as scratch, EmulatorStack(Path(scratch)) as stack:
        stack.keyvault.set_secret("fig-secret-hash", hash_fig_secret(secret))
        for name, window in (("without (window 0 ms)", "0"), ("with (window 5 ms)", "5")):
            env = {**stack.app_environment(), "COALESCE_WINDOW_MS": window}
            with LocalHostProcess(env=env) as host:
                url = host.url("/api/fig/SecurityEvent")
                run_load(url, secret, events=50, senders=senders)
                stack.ingestion.reset()
                result = run_load(url, secret, events=events, senders=senders, timeout=600)
            stats = stack.ingestion.stats()["streams"].get(STREAM, {})
            lines.append(
                f"  {name:<24} {result.rate:>9.0f} {result.p50_ms:>8.1f} {result.p99_ms:>8.1f}"
                f" {stats.get('requests', 0):>8} {len(stack.ingestion.rows(STREAM)):>7}"
            )
    return lines
