"""Large Wallarm bodies through the host: peak memory and the event loop's longest stall.

Two 16 MiB NDJSON bodies, each posted while a probe asks ``/api/openapi.json`` every 20 ms:
one of 10,000 large notifications (the row cap: accepted), one of ~280,000 tiny ones (over
the cap: 413 before anything is parsed). The host's peak RSS is its ``VmHWM``; the stall is
the slowest probe answer, which waits for the host's event loop (the probe runs in a
process of its own: ``bench.probe``).
"""

from __future__ import annotations

import json
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from bench.env import local_azure, peak_rss_mb
from local.host.process import LocalHostProcess

BODY_BYTES = 16 * 1024 * 1024 - 1024
REPO_ROOT = Path(__file__).resolve().parent.parent
HIT = REPO_ROOT.parent / "shared/reference/payloads/wallarm_hit.ndjson"


def _big_batch(count: int) -> bytes:
    """``count`` hits padded so the body is just under 16 MiB."""
    template = json.loads(HIT.read_text(encoding="utf-8").splitlines()[0])
    room = BODY_BYTES // count - len(json.dumps(template)) - 40
    lines = []
    for number in range(count):
        hit = {**template["details"]["hit"], "id": [f"big-{number}", number], "pad": "x" * room}
        lines.append(json.dumps({**template, "details": {**template["details"], "hit": hit}}))
    return "\n".join(lines).encode()


TINY = b'{"details":{"notification_type":"new_hits"}}\n'


def _tiny_batch() -> bytes:
    """As many minimal notifications as fit in 16 MiB."""
    return TINY * (BODY_BYTES // len(TINY))


def _post_with_probe(host: LocalHostProcess, body: bytes, token: str) -> tuple[int, float, float]:
    """Status, seconds to answer, and the slowest probe (ms) while the body was handled."""
    prober = subprocess.Popen(  # this interpreter, our module, the host's URL
        [sys.executable, "-m", "bench.probe", host.url("/api/openapi.json")],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    time.sleep(0.5)  # the probe is asking before the body goes
    started = time.perf_counter()
    try:
        response = requests.post(
            host.url("/api/wallarm"), data=body, headers={"X-Auth-Token": token}, timeout=300
        )
    except requests.RequestException as exc:
        raise RuntimeError(
            f"the host on {host.base_url} did not answer ({exc!r}); its exit status:"
            f" {host.exit_status}; the end of its log:\n{host.logs()[-3000:]}"
        ) from exc
    finally:
        elapsed = time.perf_counter() - started
        prober.send_signal(signal.SIGINT)
        try:
            output, _ = prober.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            prober.kill()
            output, _ = prober.communicate()
    return response.status_code, elapsed, float(output.strip() or "nan")


def bench_big_batches() -> list[str]:
    """Peak RSS and the longest loop stall for a capped and an over-cap 16 MiB body."""
    token = secrets.token_hex(16)
    lines = [
        "Wallarm 16 MiB bodies: peak host RSS and the longest event-loop stall (probe latency)",
        f"  {'':<40} {'status':>6} {'seconds':>8} {'stall ms':>9} {'peak RSS MB':>12}",
    ]
    with tempfile.TemporaryDirectory() as scratch, local_azure(Path(scratch)) as (stack, env):
        stack.keyvault.set_secret("wallarm-token", token)
        for name, body in (
            ("10,000 large notifications (the cap)", _big_batch(10_000)),
            (f"{BODY_BYTES // len(TINY):,} tiny notifications (over it)", _tiny_batch()),
        ):
            with LocalHostProcess(env=env) as host:
                # Warm: the first request builds the Azure clients (their imports hold the
                # interpreter ~0.1 s); that is cold start, measured elsewhere.
                warm = requests.post(
                    host.url("/api/wallarm"), data=TINY, headers={"X-Auth-Token": token}, timeout=60
                )
                warm.raise_for_status()
                status, seconds, stall = _post_with_probe(host, body, token)
                rss = peak_rss_mb(host.pid or 0)
            lines.append(f"  {name:<40} {status:>6} {seconds:>8.2f} {stall:>9.1f} {rss:>12.0f}")
    lines.append("  targets (hostile-input issue)             peak RSS <= 200 MB, stall <= 100 ms")
    return lines
