"""Restarting a crashed local host, as the Functions platform restarts a dead worker.

``local.run`` watches its host with a :class:`HostSupervisor`: when the host process
exits without being stopped (SIGKILL, an out-of-memory kill, a crash), the supervisor
reaps it (no defunct process is left), logs one line with its exit status, and starts it
again on the same port with the same keys and settings. A host that keeps failing to
start is retried with a growing pause (up to ``max_backoff`` seconds).
"""

from __future__ import annotations

import logging
import threading
import time

from local.host.process import HostStartError, LocalHostProcess

logger = logging.getLogger(__name__)


class HostSupervisor:
    """Watches ``host`` from a daemon thread and restarts it when it dies."""

    def __init__(
        self, host: LocalHostProcess, *, interval: float = 0.5, max_backoff: float = 30.0
    ) -> None:
        self._host = host
        self._interval = interval
        self._max_backoff = max_backoff
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.restarts = 0

    def start(self) -> HostSupervisor:
        """Start watching."""
        self._stopping.clear()
        self._thread = threading.Thread(target=self._watch, name="host-supervisor", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop watching (before stopping the host, so a shutdown is not taken for a crash)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> HostSupervisor:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _watch(self) -> None:
        backoff = 1.0
        while self._pause(self._interval):
            status = self._host.exit_status
            if status is None:
                continue
            logger.warning(
                "Local host exited unexpectedly (status %s); restarting it, as the platform "
                "restarts a dead worker",
                status,
            )
            try:
                self._host.restart()
            except HostStartError:
                logger.error("Local host did not start again; next try in %gs", backoff)
                self._pause(backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            backoff = 1.0
            self.restarts += 1
            logger.info("Local host restarted on %s", self._host.base_url)

    def _pause(self, seconds: float) -> bool:
        """Sleep up to ``seconds`` in short steps; False once stopping.

        Plain sleeps, not ``Event.wait(timeout)``: under libfaketime (the suite's run 400
        days ahead) a timed condition wait can compute its deadline on the faked clock and
        never wake.
        """
        deadline = time.monotonic() + seconds
        while not self._stopping.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            time.sleep(min(left, 0.05))
        return False
