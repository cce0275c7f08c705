"""``python -m local.emulators``: run the emulator stack in the foreground.

Writes ``<state-dir>/emulators.json`` (endpoints, ids and the app's environment) and runs
until SIGINT or SIGTERM. The ``/_emulator/`` admin routes take no authentication: this is a
loopback developer tool and binds 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import threading
from pathlib import Path
from types import FrameType

from local.emulators.stack import EmulatorStack

logger = logging.getLogger(__name__)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="python -m local.emulators", description=__doc__)
    parser.add_argument("--state-dir", type=Path, default=Path(".local"))
    parser.add_argument("--identity-port", type=int, default=0)
    parser.add_argument("--keyvault-port", type=int, default=0)
    parser.add_argument("--ingestion-port", type=int, default=0)
    parser.add_argument("--sentinel-port", type=int, default=0)
    parser.add_argument("--signl4-port", type=int, default=0)
    parser.add_argument("--graph-port", type=int, default=0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the stack until SIGINT/SIGTERM; return the exit status."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    args.state_dir.mkdir(parents=True, exist_ok=True)
    stack = EmulatorStack(
        args.state_dir,
        identity_port=args.identity_port,
        keyvault_port=args.keyvault_port,
        ingestion_port=args.ingestion_port,
        sentinel_port=args.sentinel_port,
        signl4_port=args.signl4_port,
        graph_port=args.graph_port,
    )
    with stack:
        state_file = args.state_dir / "emulators.json"
        state_file.write_text(json.dumps(stack.describe(), indent=2) + "\n", encoding="utf-8")
        # The file holds IDENTITY_HEADER, a local secret: keep it private to the user.
        state_file.chmod(0o600)
        logger.info("emulators ready; endpoints in %s", state_file)
        while not stopping.wait(timeout=1.0):
            pass
        logger.info("stopping emulators")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
