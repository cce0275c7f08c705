"""A wrong-secret flood on Fig's URL, and what the other senders feel meanwhile.

Fig's secret is checked with bcrypt (0.1 s of CPU by design), so an attacker who posts
random secrets costs the bridge CPU without any credential. This section times, one at a
time, a Wallarm post, an Elastic alert post and the health probe: first on an idle host,
then while 32 and then 100 connections (in another process, bounded in time) post
``Authorization: Secret <random uuid>`` to ``/api/fig/SecurityEvent``. The hostile-input
issue's target: the others' p99 at most 100 ms under the 32-connection flood.
"""

from __future__ import annotations

import asyncio
import base64
import multiprocessing
import secrets
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import aiohttp
import requests

from bench.env import local_azure
from local.host.process import LocalHostProcess
from shared.auth.fig import hash_fig_secret

PROBES = 60
FLOOD_SECONDS = 30.0
WALLARM_HIT = b'{"details":{"notification_type":"new_hits","hit":{"request_time":0}}}'
KIBANA_ALERT = b'{"kibana.alert.uuid":"bench","kibana.alert.rule.name":"bench rule"}'


async def _flood(url: str, connections: int, seconds: float) -> dict[int, int]:
    statuses: dict[int, int] = {}
    deadline = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=connections)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def attacker() -> None:
            while time.monotonic() < deadline:
                headers = {"Authorization": f"Secret {uuid.uuid4()}"}
                try:
                    async with session.post(url, data=b"{}", headers=headers) as response:
                        await response.read()
                        statuses[response.status] = statuses.get(response.status, 0) + 1
                except (aiohttp.ClientError, TimeoutError):
                    statuses[0] = statuses.get(0, 0) + 1

        await asyncio.gather(*(attacker() for _ in range(connections)))
    return statuses


Statuses = dict[int, int]


def _flood_process(
    url: str, connections: int, seconds: float, out: multiprocessing.Queue[Statuses]
) -> None:
    out.put(asyncio.run(_flood(url, connections, seconds)))


def _probe(
    session: requests.Session, host: LocalHostProcess, token: str, kibana: str
) -> dict[str, float]:
    """One round of the three requests; milliseconds each."""
    timings: dict[str, float] = {}
    requests_by_name: tuple[tuple[str, Callable[[], requests.Response]], ...] = (
        (
            "wallarm",
            lambda: session.post(
                host.url("/api/wallarm"), data=WALLARM_HIT, headers={"X-Auth-Token": token}
            ),
        ),
        (
            "elastic",
            lambda: session.post(
                host.url("/api/elastic/alerts"),
                data=KIBANA_ALERT,
                headers={"Authorization": kibana, "Content-Type": "application/json"},
            ),
        ),
        (
            "health",
            lambda: session.get(
                host.url("/api/health"), headers={"x-functions-key": host.function_key}
            ),
        ),
    )
    for name, send in requests_by_name:
        started = time.perf_counter()
        send()
        timings[name] = (time.perf_counter() - started) * 1000
    return timings


def _measure(
    host: LocalHostProcess, token: str, kibana: str, connections: int
) -> tuple[dict[str, list[float]], dict[int, int]]:
    flood: multiprocessing.Process | None = None
    results: multiprocessing.Queue[Statuses] = multiprocessing.Queue()
    if connections:
        flood = multiprocessing.Process(
            target=_flood_process,
            args=(host.url("/api/fig/SecurityEvent"), connections, FLOOD_SECONDS, results),
        )
        flood.start()
        time.sleep(2.0)  # let the flood build up
    samples: dict[str, list[float]] = {"wallarm": [], "elastic": [], "health": []}
    with requests.Session() as session:
        for _ in range(PROBES):
            for name, ms in _probe(session, host, token, kibana).items():
                samples[name].append(ms)
            time.sleep(0.05)
    statuses: dict[int, int] = {}
    if flood is not None:
        statuses = results.get(timeout=FLOOD_SECONDS + 60)
        flood.join()
    return samples, statuses


def _p(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def bench_flood() -> list[str]:
    """The three requests' p50/p99, idle and under 32- and 100-connection floods."""
    token = secrets.token_hex(16)
    password = secrets.token_hex(12)
    kibana = "Basic " + base64.b64encode(f"kibana:{password}".encode()).decode()
    lines = [
        f"Wrong-secret flood on /api/fig (bcrypt), {PROBES} probes each: p50 / p99 ms",
        f"  {'':<22} {'wallarm':>16} {'elastic':>16} {'health':>16}   flood answers",
    ]
    with tempfile.TemporaryDirectory() as scratch, local_azure(Path(scratch)) as (stack, env):
        stack.keyvault.set_secret("fig-secret-hash", hash_fig_secret(str(uuid.uuid4())))
        stack.keyvault.set_secret("wallarm-token", token)
        stack.keyvault.set_secret("elastic-webhook-auth", f"kibana:{password}")
        with LocalHostProcess(env=env) as host:
            with requests.Session() as session:
                _probe(session, host, token, kibana)  # warm: clients built, secrets cached
            for label, connections in (
                ("idle", 0),
                ("32 connections", 32),
                ("100 connections", 100),
            ):
                samples, statuses = _measure(host, token, kibana, connections)
                cells = "".join(
                    f" {statistics.median(v):>7.1f} /{_p(v, 0.99):>7.1f}" for v in samples.values()
                )
                answered = ", ".join(f"{s}: {n:,}" for s, n in sorted(statuses.items()))
                lines.append(f"  {label:<22}{cells}   {answered or '-'}")
    lines.append("  target (hostile-input issue): p99 <= 100 ms under 32 connections")
    return lines
