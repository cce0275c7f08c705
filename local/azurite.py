"""Runs Azurite (blob, queue, table) from ``node_modules`` on loopback ports.

``Azurite`` is for tests and ``make run``: it starts ``node_modules/.bin/azurite`` with a
data directory, waits until all three services accept connections, and can be stopped,
killed or restarted on the same ports and data directory, so persisted messages survive a
restart. ``python -m local.azurite --location .local/azurite`` runs it by hand.
"""

from __future__ import annotations

import argparse
import logging
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Self

from local.host.ports import LOOPBACK, accepts_connections, free_port
from local.lifecycle import Service

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
AZURITE_BIN = REPO_ROOT / "node_modules" / ".bin" / "azurite"
ACCOUNT_NAME = "devstoreaccount1"
# The emulator's published, well-known development key (npm azurite README); not a secret.
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
_START_TIMEOUT = 30.0
_STOP_TIMEOUT = 10.0
_START_ATTEMPTS = 3


class AzuriteError(RuntimeError):
    """Azurite is not installed, or did not start."""


class Azurite(Service):
    """One Azurite process serving blob, queue and table on 127.0.0.1.

    Args:
        location: The data directory (``--location``); a temporary one when ``None``,
            removed by :meth:`stop`.
        blob_port: Blob port; a free one when 0.
        queue_port: Queue port; a free one when 0.
        table_port: Table port; a free one when 0.
        executable: The azurite launcher; ``node_modules/.bin/azurite`` by default.
    """

    def __init__(
        self,
        location: Path | str | None = None,
        *,
        blob_port: int = 0,
        queue_port: int = 0,
        table_port: int = 0,
        executable: Path | None = None,
    ) -> None:
        self._temp_dir: tempfile.TemporaryDirectory[str] | None = None
        if location is None:
            self._temp_dir = tempfile.TemporaryDirectory(prefix="azurite-")
            location = self._temp_dir.name
        self.location = Path(location)
        self._fixed_ports = bool(blob_port or queue_port or table_port)
        if self._fixed_ports:
            # Some ports given: the rest are chosen now and kept, like the given ones.
            blob_port, queue_port, table_port = (
                port or free_port() for port in (blob_port, queue_port, table_port)
            )
        self.blob_port = blob_port
        self.queue_port = queue_port
        self.table_port = table_port
        self._executable = executable or AZURITE_BIN
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        """Where Azurite's own stdout and stderr go."""
        return self.location / "azurite-process.log"

    @property
    def blob_endpoint(self) -> str:
        """The blob service URL, account included."""
        return f"http://{LOOPBACK}:{self.blob_port}/{ACCOUNT_NAME}"

    @property
    def queue_endpoint(self) -> str:
        """The queue service URL, account included."""
        return f"http://{LOOPBACK}:{self.queue_port}/{ACCOUNT_NAME}"

    @property
    def table_endpoint(self) -> str:
        """The table service URL, account included."""
        return f"http://{LOOPBACK}:{self.table_port}/{ACCOUNT_NAME}"

    @property
    def connection_string(self) -> str:
        """A connection string for the well-known account with explicit endpoints."""
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT_NAME};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint={self.blob_endpoint};QueueEndpoint={self.queue_endpoint};"
            f"TableEndpoint={self.table_endpoint};"
        )

    @property
    def running(self) -> bool:
        """Whether the Azurite process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> Self:
        """Start Azurite and wait until blob, queue and table accept connections.

        Returns:
            ``self``, for chaining.

        Raises:
            AzuriteError: node_modules is missing, or Azurite did not come up.
        """
        if not self._executable.exists():
            raise AzuriteError(f"{self._executable} not found: run `make deps` (npm ci) first")
        if self.running:
            return self
        self.location.mkdir(parents=True, exist_ok=True)
        attempts = 1 if self._fixed_ports else _START_ATTEMPTS
        for attempt in range(1, attempts + 1):
            if not self._fixed_ports and (attempt > 1 or not self.blob_port):
                # Ports chosen free can be taken before Azurite binds them: choose again.
                self.blob_port, self.queue_port, self.table_port = _three_free_ports()
            if self._launch_and_wait():
                logger.info(
                    "Azurite ready: queue port %d, data in %s", self.queue_port, self.location
                )
                return self
        raise AzuriteError(f"Azurite did not start; see {self.log_path}:\n{self._log_tail()}")

    def stop(self) -> None:
        """Stop Azurite gracefully (SIGTERM), so it writes its data to ``location``."""
        self._terminate(signal.SIGTERM)
        if self._temp_dir is not None:
            self._temp_dir.cleanup()
            self._temp_dir = None

    def close(self) -> None:
        """The same as :meth:`stop`."""
        self.stop()

    def kill(self) -> None:
        """Kill Azurite at once (SIGKILL), as a crash would; data not yet saved is lost."""
        self._terminate(signal.SIGKILL)

    def restart(self) -> None:
        """Stop gracefully and start again on the same ports with the same data."""
        self._terminate(signal.SIGTERM)
        fixed = self._fixed_ports
        # Restarting must keep the ports: clients hold the connection string.
        self._fixed_ports = True
        try:
            self.start()
        finally:
            self._fixed_ports = fixed

    def _launch_and_wait(self) -> bool:
        command = [
            str(self._executable),
            "--silent",
            "--skipApiVersionCheck",
            "--disableTelemetry",
            "--location",
            str(self.location),
            "--blobHost",
            LOOPBACK,
            "--queueHost",
            LOOPBACK,
            "--tableHost",
            LOOPBACK,
            "--blobPort",
            str(self.blob_port),
            "--queuePort",
            str(self.queue_port),
            "--tablePort",
            str(self.table_port),
        ]
        with self.log_path.open("ab") as log_file:
            self._process = subprocess.Popen(
                command, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        deadline = time.monotonic() + _START_TIMEOUT
        ports = (self.blob_port, self.queue_port, self.table_port)
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                return False
            if all(accepts_connections(port) for port in ports):
                return True
            time.sleep(0.1)
        self._terminate(signal.SIGKILL)
        return False

    def _terminate(self, signum: signal.Signals) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signum)
            try:
                process.wait(timeout=_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                logger.warning("Azurite ignored %s; killing it", signum.name)
                process.kill()
                process.wait()

    def _log_tail(self, max_chars: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-max_chars:]
        except OSError:
            return ""


def _three_free_ports() -> tuple[int, int, int]:
    ports: set[int] = set()
    while len(ports) < 3:
        ports.add(free_port())
    blob, queue, table = sorted(ports)
    return blob, queue, table


def main(argv: list[str] | None = None) -> int:
    """Run Azurite in the foreground until Ctrl-C; prints its connection string."""
    parser = argparse.ArgumentParser(prog="python -m local.azurite", description=main.__doc__)
    parser.add_argument("--location", default=".local/azurite", help="data directory")
    parser.add_argument("--blob-port", type=int, default=10000)
    parser.add_argument("--queue-port", type=int, default=10001)
    parser.add_argument("--table-port", type=int, default=10002)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    azurite = Azurite(
        args.location,
        blob_port=args.blob_port,
        queue_port=args.queue_port,
        table_port=args.table_port,
    )
    try:
        azurite.start()
    except AzuriteError as error:
        print(error, file=sys.stderr)
        return 1
    # The key is the emulator's public development key, so printing it is fine.
    print(azurite.connection_string, flush=True)
    try:
        while azurite.running:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        azurite.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
