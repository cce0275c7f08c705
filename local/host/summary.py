"""One INFO line per HTTP function and interval, instead of one per invocation.

Under load the per-invocation "Executed ..." line cost the host more CPU than routing a
request (a LogRecord, formatting and a write each time), so HTTP invocations answered
below 500 are logged at DEBUG and counted here; every ``interval`` seconds in which a
function ran, one line gives its count by status and the slowest duration::

    fig_webhook: 23,410 invocations in the last 10 s: 202 x23,400, 401 x10; max 40 ms

Failures (an exception, a non-HttpResponse result or a 5xx) are still logged one by one
as well. Timer and queue invocations keep their per-invocation lines.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL = 10.0


class InvocationSummary:
    """Counts HTTP invocations per function and status between two :meth:`flush` calls.

    Args:
        interval: Seconds between summary lines when :meth:`run` drives it.
        clock: Monotonic seconds (injectable for tests).
    """

    def __init__(
        self,
        interval: float = DEFAULT_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._since = clock()
        self._counts: dict[str, dict[int, int]] = {}
        self._max_ms: dict[str, float] = {}

    def record(self, function_name: str, status: int, elapsed_ms: float) -> None:
        """Count one invocation of ``function_name`` answered with ``status``."""
        counts = self._counts.get(function_name)
        if counts is None:
            counts = self._counts[function_name] = {}
            self._max_ms[function_name] = elapsed_ms
        elif elapsed_ms > self._max_ms[function_name]:
            self._max_ms[function_name] = elapsed_ms
        counts[status] = counts.get(status, 0) + 1

    def lines(self) -> list[str]:
        """The summary of each function counted since the last call, then start afresh."""
        now = self._clock()
        seconds = now - self._since
        self._since = now
        counts, self._counts = self._counts, {}
        max_ms, self._max_ms = self._max_ms, {}
        # Whole seconds for the usual 10 s window; a short one (at shutdown) keeps a decimal.
        window = f"{seconds:.0f}" if seconds >= 10 else f"{seconds:.1f}"
        return [
            f"{name}: {sum(by_status.values()):,} invocations in the last {window} s: "
            + ", ".join(f"{status} x{count:,}" for status, count in sorted(by_status.items()))
            + f"; max {max_ms[name]:.0f} ms"
            for name, by_status in counts.items()
        ]

    def flush(self) -> None:
        """Log the summary lines at INFO (nothing when nothing ran)."""
        for line in self.lines():
            logger.info("%s", line)

    async def run(self) -> None:
        """Flush every ``interval`` seconds until cancelled."""
        while True:
            await asyncio.sleep(self.interval)
            self.flush()
