"""Wallarm NDJSON batches through the host: events/s and requests per 10,000 events."""

from __future__ import annotations

import json
import math
import secrets
import tempfile
import time
from pathlib import Path

import requests

from bench.env import local_azure
from local.host.process import LocalHostProcess

HIT = Path(__file__).resolve().parents[2] / "shared/reference/payloads/wallarm_hit.ndjson"
STREAM = "Custom-WallarmEvents"


def _batch(first: int, size: int) -> bytes:
    """``size`` distinct hits as NDJSON (Wallarm's second body format)."""
    template = json.loads(HIT.read_text(encoding="utf-8").splitlines()[0])
    lines = []
    for number in range(first, first + size):
        hit = {**template["details"]["hit"], "id": [f"bench-{number}", number]}
        lines.append(json.dumps({**template, "details": {**template["details"], "hit": hit}}))
    return "\n".join(lines).encode()


def bench_wallarm(*, events: int = 10_000, batch: int = 1_000) -> list[str]:
    """Batches of ``batch`` hits until ``events`` were sent, one after another."""
    token = secrets.token_hex(16)
    with tempfile.TemporaryDirectory() as scratch, local_azure(Path(scratch)) as (stack, env):
        stack.keyvault.set_secret("wallarm-token", token)
        with LocalHostProcess(env=env) as host, requests.Session() as session:
            url = host.url("/api/wallarm")
            session.post(url, data=_batch(0, 10), headers={"X-Auth-Token": token}, timeout=60)
            stack.ingestion.reset()
            bodies = [_batch(start, batch) for start in range(0, events, batch)]
            started = time.perf_counter()
            for body in bodies:
                response = session.post(
                    url, data=body, headers={"X-Auth-Token": token}, timeout=120
                )
                response.raise_for_status()
            elapsed = time.perf_counter() - started
        stats = stack.ingestion.stats()["streams"].get(STREAM, {})
        landed = len(stack.ingestion.rows(STREAM))
    # The SDK cuts a chunk at 1 MiB of JSON: what these rows would have cost it.
    requests_per_10k = stats.get("requests", 0) * 10_000 / events
    sdk_requests = math.ceil(stats.get("decompressed_bytes", 0) / 1_048_576) * 10_000 / events
    return [
        f"Wallarm: {events:,} hits as NDJSON batches of {batch:,}, one batch at a time",
        f"  events/s                                {landed / elapsed:>8.0f}",
        f"  rows landed                             {landed:>8,}",
        f"  ingestion requests per 10,000 events    {requests_per_10k:>8.1f}",
        f"  the SDK's chunking (1 MiB before gzip)  {sdk_requests:>8.1f}",
        "  one upload per event (the peers)          10,000.0",
    ]
