"""Delivery benchmarks: compressed-size packing against the SDK's chunking, and coalescing.

Both measured against the ingestion emulator over HTTPS, which counts the requests and
the bytes it received; nothing is estimated.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from collections.abc import MutableMapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from azure.identity import ManagedIdentityCredential
from azure.monitor.ingestion import LogsIngestionClient

from bench.env import local_azure
from bench.load import run_load, security_event
from local.emulators.faults import Fault
from local.emulators.stack import EmulatorStack
from local.host.process import LocalHostProcess
from shared.adapters.ingestion import LogsIngestionSink
from shared.auth.bcrypt_guard import CheckGate
from shared.auth.fig import FigSecretVerifier, hash_fig_secret
from shared.inbound.request import InboundRequest
from shared.sources.fig import FigSource

STREAM = "Custom-FigEvents"
FIG = FigSource(
    secret_hash_name="fig-secret-hash",
    event_types=None,
    verifier=FigSecretVerifier(),
    gate=CheckGate(),
)


def _fig_rows(count: int) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    return [
        FIG.parse("SecurityEvent", InboundRequest("POST", {}, security_event(i), now)).rows[0]
        for i in range(count)
    ]


def bench_packing(*, events: int = 10_000) -> list[str]:
    """Requests and bytes for the same rows: the SDK's list upload vs this packer."""
    rows = _fig_rows(events)
    sdk_rows: list[MutableMapping[str, Any]] = list(rows)  # the SDK's parameter type
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
            (
                "SDK default (1 MiB before gzip)",
                lambda: client.upload(stack.dcr_id, STREAM, sdk_rows),
            ),
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
    with tempfile.TemporaryDirectory() as scratch, local_azure(Path(scratch)) as (stack, env):
        stack.keyvault.set_secret("fig-secret-hash", hash_fig_secret(secret))
        for name, window in (("without (window 0 ms)", "0"), ("with (window 5 ms)", "5")):
            with LocalHostProcess(env={**env, "COALESCE_WINDOW_MS": window}) as host:
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


class _ManualClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


BASELINE_DRAIN_SECONDS = 234.4
"""10,000 events drained with one-row envelopes (one per webhook): `make bench` of
2026-11-23 on the same VM (docs/benchmarks.md), before grouped hand-offs; too slow to
measure again in every run."""


def _queue_depth(env: dict[str, str]) -> int:
    from shared.adapters.retry_storage import build_retry_storage
    from shared.config.settings import Settings

    storage = build_retry_storage(Settings.from_env(env), None)
    return asyncio.run(storage.queue.depth())


def bench_drain(*, events: int = 10_000, senders: int = 32) -> list[str]:
    """Events queued during an outage, then the time to deliver them all after recovery.

    Beside it, the one-row-envelope figure this replaced (``BASELINE_DRAIN_SECONDS``).
    """
    secret = str(uuid.uuid4())
    clock = _ManualClock()
    with (
        tempfile.TemporaryDirectory() as scratch,
        local_azure(Path(scratch), fault_clock=clock) as (stack, env),
    ):
        stack.keyvault.set_secret("fig-secret-hash", hash_fig_secret(secret))
        retry_fast = {"RETRY_BASE_SECONDS": "1", "RETRY_MAX_SECONDS": "5"}
        with LocalHostProcess(env={**env, **retry_fast}) as host:
            stack.ingestion.faults.add(Fault(status=503, for_seconds=600))
            result = run_load(
                host.url("/api/fig/SecurityEvent"), secret, events=events, senders=senders
            )
            queued = sum(n for status, n in result.statuses.items() if status == 202)
            messages = _queue_depth(env)
            clock.now += 601  # the outage ends
            started = time.perf_counter()
            deadline = started + 900
            while time.perf_counter() < deadline:
                landed = len(stack.ingestion.rows(STREAM))
                if landed >= queued:
                    break
                time.sleep(0.5)
            elapsed = time.perf_counter() - started
            ids = [r.row["EventId"] for r in stack.ingestion.rows(STREAM)]
    unique = len(set(ids))
    baseline_rate = events / BASELINE_DRAIN_SECONDS
    return [
        f"Drain: {events:,} Fig webhooks during an ingestion outage, then recovery",
        f"  answered 202 (queued) during the outage   {queued:>8,}",
        f"  queue messages holding them               {messages:>8,}"
        f" ({queued / max(messages, 1):.0f} events per envelope)",
        f"  delivered after recovery                  {unique:>8,} in {elapsed:.1f} s"
        f" ({unique / max(elapsed, 1e-9):.0f} events/s)",
        f"  lost                                      {queued - unique:>8,}",
        f"  duplicated                                {len(ids) - unique:>8,}",
        f"  baseline: one-row envelopes (2026-11-23)  {events:>8,} in {BASELINE_DRAIN_SECONDS} s"
        f" ({baseline_rate:.0f} events/s)",
        "  target (issue 15)                         <= 60 s, 0 lost, 0 extra duplicates",
    ]
