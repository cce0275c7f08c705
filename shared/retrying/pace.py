"""The retry worker's pace per target: one ``Retry-After`` slows the whole stream.

The queue trigger runs up to ``batchSize`` messages at once in one worker process
(host.json), and the sink coalesces their rows into shared uploads. When the service
answers 429 with ``Retry-After: n``, every message in flight for that stream would be
refused too; re-queuing each with its own backoff spreads them over minutes and spends
an attempt of each. Instead the worker records that the target is paused for ``n``
seconds: messages for it wait here until then (when the pause is short enough to wait
out inside an invocation) and try again, and only a pause longer than
``max_wait_seconds`` sends a message back to the queue, unchanged, visible when the
pause ends. Other targets are not slowed.

The pace is per process (as the coalescer is); other instances learn the same
``Retry-After`` from their own first refusal.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

DEFAULT_MAX_WAIT_SECONDS = 10.0
"""The longest pause waited out inside one invocation (well inside the function timeout
and the message's ten-minute hold)."""
DEFAULT_MAX_TRIES = 4
"""Tries of one message within one invocation before a refusal re-queues it."""

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class Pace:
    """When each target may be sent to next, from the ``Retry-After`` it last gave.

    Args:
        max_wait_seconds: the longest pause a message waits out in its invocation.
        max_tries: how often one invocation tries a message that keeps being throttled.
        clock: monotonic seconds.
        sleep: how to wait (``asyncio.sleep``).
    """

    def __init__(
        self,
        *,
        max_wait_seconds: float = DEFAULT_MAX_WAIT_SECONDS,
        max_tries: int = DEFAULT_MAX_TRIES,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.max_wait_seconds = max_wait_seconds
        self.max_tries = max_tries
        self._clock = clock
        self._sleep = sleep
        self._not_before: dict[str, float] = {}

    def hold(self, target: str, seconds: float) -> None:
        """The service asked ``target``'s senders to wait ``seconds`` (a longer pause wins)."""
        until = self._clock() + max(seconds, 0.0)
        if until > self._not_before.get(target, 0.0):
            self._not_before[target] = until

    def remaining(self, target: str) -> float:
        """Seconds until ``target`` may be sent to (0 when it may now)."""
        until = self._not_before.get(target)
        if until is None:
            return 0.0
        left = until - self._clock()
        if left <= 0:
            del self._not_before[target]
            return 0.0
        return left

    def can_wait(self, seconds: float) -> bool:
        """Whether a pause this long is waited out in the invocation."""
        return seconds <= self.max_wait_seconds

    async def wait_turn(self, target: str) -> float:
        """Wait until ``target`` may be sent to, if that is soon enough.

        Returns:
            0 once it may be sent to; otherwise the seconds left of a pause too long to
            wait here (nothing was waited): the caller re-queues the message for then.
        """
        while True:
            left = self.remaining(target)
            if left <= 0:
                return 0.0
            if not self.can_wait(left):
                return left
            await self._sleep(left)
