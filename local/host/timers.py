"""Timer triggers: fire each function on its NCRONTAB schedule, in UTC.

As in the real host: ``%SETTING%`` schedules come from the app settings; ``runOnStartup``
fires once at start; a failing run is logged and the schedule continues; runs of one
timer never overlap (occurrences that pass while a run is still going are skipped).

The host runs each timer as a singleton across instances (``local.host.singleton``).
Differences: there is no schedule monitor (``useMonitor``); ``past_due`` is true only
when this process fires more than a second late (a sleep overrun), never for runs missed
while the host was down.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta

from azure.functions.timer import TimerRequest

from local.host.invoke import invoke
from local.host.loader import LoadedFunction, resolve_app_setting
from local.host.ncrontab import Schedule, parse_schedule

logger = logging.getLogger(__name__)

_PAST_DUE_AFTER = timedelta(seconds=1)


class TimerTrigger:
    """Runs one timer-triggered function on its schedule until cancelled.

    Args:
        function: The timer-triggered function.
        clock: Returns the current UTC time; a seam for tests.
        environ: The app settings, for ``%NAME%`` schedules.
        may_fire: Awaited before each run; False skips that occurrence (a singleton
            lock this host no longer holds).
    """

    def __init__(
        self,
        function: LoadedFunction,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        environ: Mapping[str, str] = os.environ,
        may_fire: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        self.function = function
        self.may_fire = may_fire
        expression = resolve_app_setting(str(function.trigger["schedule"]), environ)
        self.schedule: Schedule = parse_schedule(expression)
        self.run_on_startup = bool(function.trigger.get("runOnStartup"))
        self._clock = clock
        self._last_run: datetime | None = None

    async def run(self) -> None:
        """Fire on startup if asked, then on every occurrence; returns only when cancelled."""
        logger.info(
            "Timer %s on schedule %r, next at %s",
            self.function.name,
            self.schedule.expression,
            self.schedule.next_occurrence(self._clock()).isoformat(),
        )
        if self.run_on_startup:
            await self._fire(scheduled=self._clock(), past_due=False)
        previous = self._clock()
        while True:
            # max(): a sleep that wakes a hair early must not fire the same occurrence twice.
            scheduled = self.schedule.next_occurrence(max(self._clock(), previous))
            delay = (scheduled - self._clock()).total_seconds()
            if delay > 0:
                await asyncio.sleep(delay)
            past_due = self._clock() - scheduled > _PAST_DUE_AFTER
            await self._fire(scheduled=scheduled, past_due=past_due)
            previous = scheduled

    async def _fire(self, *, scheduled: datetime, past_due: bool) -> None:
        if self.may_fire is not None and not await self.may_fire():
            logger.warning(
                "Timer %s skips %s: its lock may have expired", self.function.name, scheduled
            )
            return
        # Awaited inline: the next occurrence is computed only after this run ends.
        request = TimerRequest(
            past_due=past_due,
            schedule={"AdjustForDST": False},
            schedule_status={
                "Last": (self._last_run or scheduled).isoformat(),
                "Next": self.schedule.next_occurrence(scheduled).isoformat(),
                "LastUpdated": self._clock().isoformat(),
            },
        )
        self._last_run = scheduled
        try:
            await invoke(self.function, request, trigger_detail=f"scheduled {scheduled:%H:%M:%S}")
        except Exception:  # noqa: BLE001  # invoke() logged it; the schedule goes on
            logger.info("Timer %s keeps its schedule after a failure", self.function.name)
