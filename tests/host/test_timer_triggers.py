"""Timer triggers: firing on schedule through the host, and never overlapping."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import azure.functions as func
import pytest

from local.host.loader import index_functions
from local.host.timers import TimerTrigger
from tests.host.conftest import SampleHost
from tests.host.support import read_records
from tests.waiting import wait_for


@pytest.mark.e2e
def test_timer_fires_every_second_and_survives_a_failure(sample_host: SampleHost) -> None:
    """The %SETTING% schedule fires in the thread pool; the failing first run stops nothing."""

    def three_runs() -> list[dict[str, Any]] | None:
        found = read_records(sample_host.out_dir, "timer")
        return found if len(found) >= 3 else None

    records = wait_for(three_runs, what="three timer runs")
    assert all(record["thread"].startswith("function") for record in records)
    logs = sample_host.host.logs()
    assert "first timer run fails on purpose" in logs
    assert "Executed tick (Succeeded" in logs


def test_runs_of_one_timer_never_overlap() -> None:
    """A run longer than the interval delays the next one instead of running beside it."""
    app = func.FunctionApp()
    state = {"running": 0, "most": 0, "runs": 0}
    two_runs = asyncio.Event()

    @app.timer_trigger(arg_name="timer", schedule="* * * * * *", run_on_startup=True)
    async def busy(timer: func.TimerRequest) -> None:
        state["running"] += 1
        state["most"] = max(state["most"], state["running"])
        await asyncio.sleep(1.2)
        state["running"] -= 1
        state["runs"] += 1
        if state["runs"] >= 2:
            two_runs.set()

    (function,) = index_functions(app)

    async def run_until_two_runs() -> None:
        task = asyncio.create_task(TimerTrigger(function, lambda: datetime.now(UTC)).run())
        try:
            async with asyncio.timeout(15):
                await two_runs.wait()
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    asyncio.run(run_until_two_runs())
    assert state["runs"] >= 2
    assert state["most"] == 1
