"""``python -m bench.probe URL``: ask ``URL`` every 20 ms until SIGINT, then print the
slowest answer in ms (``inf`` if the host did not answer one).

It runs in a process of its own: a probe thread in the benchmark's process would share an
interpreter lock with the emulators there, and measure their pauses (a 16 MiB upload
being parsed) as the host's.
"""

from __future__ import annotations

import sys
import time

import requests

INTERVAL_SECONDS = 0.02


def main(argv: list[str]) -> int:
    """Probe until interrupted; print the slowest answer (ms), ``inf`` if one failed."""
    slowest = 0.0
    with requests.Session() as session:
        try:
            while True:
                started = time.perf_counter()
                try:
                    session.get(argv[0], timeout=60)
                except requests.RequestException as exc:  # the host is not serving
                    print(f"probe: {exc!r}", file=sys.stderr, flush=True)
                    slowest = float("inf")
                slowest = max(slowest, (time.perf_counter() - started) * 1000)
                time.sleep(INTERVAL_SECONDS)
        except KeyboardInterrupt:
            pass
    print(f"{slowest:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
