"""`python -m bench.profile`: where the local host spends its time under the intake load.

Runs the intake bench's load (Fig webhooks from concurrent senders, through the local
functions host to the ingestion emulator) while py-spy samples the host process, then
prints the top frames by own time (where the CPU is) and by total time (which calls
cost most, everything under them included). py-spy attaches to the host by pid, so it
needs ptrace rights over it (root, or ``kernel.yama.ptrace_scope`` 0).

BENCH_PROFILE_EVENTS (default 5,000) and BENCH_SENDERS (32) scale the load; the raw
collapsed stacks are kept in BENCH_PROFILE_OUT when it is set.
"""

from __future__ import annotations

import collections
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.env import local_azure
from bench.load import run_load
from local.host.process import LocalHostProcess
from shared.auth.fig import hash_fig_secret

REPO_ROOT = Path(__file__).resolve().parent.parent
TOP = 15
_SKIP = ("asyncio/", "selectors.py", "threading.py", "concurrent/futures")
# Leaves of threads waiting, not working: the loop's select, an idle pool thread's get().
_IDLE = ("select", "wait", "epoll", "_bootstrap", "_worker (concurrent/futures/thread.py:81)")


def _py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(found).exists():
        raise SystemExit("py-spy is not installed (pip install -r requirements-dev.txt)")
    return found


def summarize(collapsed: str, *, top: int = TOP) -> list[str]:
    """The top frames of py-spy's collapsed stacks, by own samples and by total samples.

    Idle samples (the event loop's ``select``, threads waiting) are left out of both
    tables, so the percentages are of the time the host was working.
    """
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    busy = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        frames = stack.split(";")
        leaf = frames[-1]
        if any(idle in leaf for idle in _IDLE):
            continue
        count = int(count_text)
        busy += count
        own[_short(leaf)] += count
        for frame in {_short(f) for f in frames if not any(s in f for s in _SKIP)}:
            total[frame] += count
    lines = [f"  {busy:,} busy samples", "  by own time:"]
    lines += [f"    {100 * n / busy:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    lines.append("  by total time (the app's own frames):")
    ours = [(f, n) for f, n in total.most_common() if "shared/" in f or "local/host" in f]
    lines += [f"    {100 * n / busy:5.1f}%  {frame}" for frame, n in ours[:top]]
    return lines


def _short(frame: str) -> str:
    """``func (path/to/site-packages/x/y.py:12)`` -> ``func (x/y.py:12)``."""
    for marker in ("site-packages/", "/lib/python3.11/", f"{REPO_ROOT}/"):
        if marker in frame:
            head, _, tail = frame.partition(marker)
            return f"{head.split('(')[0]}({tail}"
    return frame


def profile_intake(*, events: int, senders: int) -> list[str]:
    """Profile the host under ``events`` webhooks from ``senders``; the summary lines."""
    secret = str(uuid.uuid4())
    with tempfile.TemporaryDirectory() as scratch, local_azure(Path(scratch)) as (stack, env):
        stack.keyvault.set_secret("fig-secret-hash", hash_fig_secret(secret))
        raw = Path(os.environ.get("BENCH_PROFILE_OUT") or Path(scratch) / "intake.collapsed")
        with LocalHostProcess(env=env) as host:
            url = host.url("/api/fig/SecurityEvent")
            run_load(url, secret, events=200, senders=senders)  # warm: clients, bcrypt
            # --gil: only samples of a thread holding the interpreter lock, i.e. where the
            # CPU goes (a thread waiting on a socket or on the lock itself is not counted).
            command = [_py_spy(), "record", "--pid", str(host.pid), "--rate", "250", "--gil"]
            spy = subprocess.Popen(
                [*command, "--format", "raw", "--output", str(raw)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(1.0)  # py-spy attaches
            result = run_load(url, secret, events=events, senders=senders, timeout=600)
            spy.send_signal(2)  # SIGINT: py-spy writes what it has and exits
            spy.wait(timeout=60)
        text = raw.read_text(encoding="utf-8") if raw.exists() else ""
    return [
        f"Intake profile: {events:,} Fig webhooks from {senders} senders, "
        f"{result.rate:.0f} events/s, p99 {result.p99_ms:.1f} ms (py-spy at 250 Hz, --gil)",
        *summarize(text),
    ]


def main() -> int:
    events = int(os.environ.get("BENCH_PROFILE_EVENTS", "5000"))
    senders = int(os.environ.get("BENCH_SENDERS", "32"))
    print("\n".join(profile_intake(events=events, senders=senders)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
