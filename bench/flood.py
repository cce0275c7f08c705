"""A wrong-secret flood on Fig's route, and what the other routes feel meanwhile (issue 11).

Flooders post ``Authorization: Secret <random GUID>`` to ``/api/fig/SecurityEvent`` from a
process of their own (``python -m bench.flood``, so they do not share an interpreter lock
with the timing client) over 32, then 100 connections, each request with a random
``X-Forwarded-For`` (the worst case: an attacker choosing its own address bucket, so only
the bounded bcrypt pool protects the host). Meanwhile one client times Wallarm and Elastic
alert posts and the health probe, one request at a time; the same is timed on the idle
host first. Figures are printed beside the idle baseline, never asserted.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import requests

from bench.env import local_azure
from local.host.process import LocalHostProcess
from shared.auth.fig import hash_fig_secret

REPO_ROOT = Path(__file__).resolve().parent.parent
REFERENCE = REPO_ROOT.parent / "shared/reference/payloads"


@dataclass(frozen=True)
class Probe:
    """One route timed beside the flood."""

    name: str
    method: str
    url: str
    body: bytes | None
    headers: dict[str, str]


@dataclass
class FloodTally:
    """The flood's answers by status (0: no answer within the timeout)."""

    statuses: dict[int, int] = field(default_factory=dict)

    def line(self) -> str:
        return ", ".join(f"{n} x {s or 'none'}" for s, n in sorted(self.statuses.items()))


def _probes(host: LocalHostProcess, token: str, basic: str) -> list[Probe]:
    return [
        Probe(
            "wallarm",
            "POST",
            host.url("/api/wallarm"),
            (REFERENCE / "wallarm_hit.ndjson").read_bytes(),
            {"X-Auth-Token": token, "Content-Type": "application/json"},
        ),
        Probe(
            "elastic",
            "POST",
            host.url("/api/elastic/alerts"),
            (REFERENCE / "kibana_webhook_rendered_body.json").read_bytes(),
            {"Authorization": f"Basic {basic}", "Content-Type": "application/json"},
        ),
        Probe(
            "health", "GET", host.url("/api/health"), None, {"x-functions-key": host.function_key}
        ),
    ]


def _time(probes: list[Probe], rounds: int) -> dict[str, tuple[float, float]]:
    """p50 and p99 in ms per probe, over ``rounds`` sequential requests each."""
    timings: dict[str, list[float]] = {p.name: [] for p in probes}
    with requests.Session() as session:
        for _ in range(rounds):
            for probe in probes:
                started = time.perf_counter()
                session.request(
                    probe.method, probe.url, data=probe.body, headers=probe.headers, timeout=60
                )
                timings[probe.name].append(1000 * (time.perf_counter() - started))
    return {
        name: (
            statistics.median(values),
            sorted(values)[min(len(values) - 1, int(0.99 * len(values)))],
        )
        for name, values in timings.items()
    }


async def _flood(url: str, connections: int, stop: asyncio.Event, tally: FloodTally) -> None:
    timeout = aiohttp.ClientTimeout(total=30)
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def flooder() -> None:
            while not stop.is_set():
                headers = {
                    "Authorization": f"Secret {uuid.uuid4()}",
                    "X-Forwarded-For": f"198.18.{random.randrange(256)}.{random.randrange(256)}",
                    "Content-Type": "application/json",
                }
                try:
                    async with session.post(url, data=b"{}", headers=headers) as response:
                        await response.read()
                        status = response.status
                except (aiohttp.ClientError, TimeoutError):
                    status = 0
                tally.statuses[status] = tally.statuses.get(status, 0) + 1

        await asyncio.gather(*(flooder() for _ in range(connections)))


def flood_until_interrupted(url: str, connections: int) -> FloodTally:
    """Flood ``url`` over ``connections`` until SIGINT; the answers by status."""
    tally = FloodTally()

    async def run() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGINT, stop.set)
        await _flood(url, connections, stop, tally)

    asyncio.run(run())
    return tally


def _start_flood(url: str, connections: int) -> subprocess.Popen[str]:
    """The flood in a process of its own: in the benchmark's process it would share an
    interpreter lock with the timing client, whose waits it would add to the host's."""
    return subprocess.Popen(  # this interpreter, this module, the host's URL
        [sys.executable, "-m", "bench.flood", url, str(connections)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )


def _stop_flood(flood: subprocess.Popen[str]) -> FloodTally:
    flood.send_signal(signal.SIGINT)
    output, _ = flood.communicate(timeout=120)
    return FloodTally({int(status): n for status, n in json.loads(output).items()})


def _row(condition: str, timed: dict[str, tuple[float, float]], flood: str) -> str:
    cells = "".join(
        f" {timed[n][0]:>7.1f} {timed[n][1]:>7.1f}" for n in ("wallarm", "elastic", "health")
    )
    return f"  {condition:<14}{cells}   {flood}"


def bench_flood(*, connections: tuple[int, ...] = (32, 100), rounds: int = 60) -> list[str]:
    """Other routes' latency while Fig is flooded with wrong secrets, beside the idle host."""
    lines = [
        "Wrong-secret flood on /api/fig (random secrets and X-Forwarded-For; bcrypt cost 11):",
        f"the other routes, {rounds} sequential requests each, p50/p99 ms",
        f"  {'':<14} {'wallarm':>15} {'elastic':>15} {'health':>15}   flood answers",
    ]
    token = secrets.token_hex(24)
    password = secrets.token_urlsafe(18)
    basic = base64.b64encode(f"kibana:{password}".encode()).decode()
    with tempfile.TemporaryDirectory() as scratch, local_azure(Path(scratch)) as (stack, env):
        stack.keyvault.set_secret("fig-secret-hash", hash_fig_secret(str(uuid.uuid4())))
        stack.keyvault.set_secret("wallarm-token", token)
        stack.keyvault.set_secret("elastic-webhook-auth", f"kibana:{password}")
        with LocalHostProcess("function_app:app", env=env) as host:
            probes = _probes(host, token, basic)
            _time(probes, 5)  # warm up: tokens, vault reads, imports
            lines.append(_row("idle", _time(probes, rounds), "-"))
            for count in connections:
                flood = _start_flood(host.url("/api/fig/SecurityEvent"), count)
                time.sleep(1.5)  # let it start and ramp up
                timed = _time(probes, rounds)
                tally = _stop_flood(flood)
                lines.append(_row(f"{count} flooding", timed, tally.line()))
    return lines


def main(argv: list[str]) -> int:
    """``python -m bench.flood URL CONNECTIONS``: flood until SIGINT, print the answers by
    status as JSON."""
    tally = flood_until_interrupted(argv[0], int(argv[1]))
    print(json.dumps(tally.statuses))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
