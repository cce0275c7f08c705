"""The bridge health timer: every 5 minutes, the bridge's counters into ``BridgeHealth_CL``."""

from __future__ import annotations

from datetime import UTC, datetime

import azure.functions as func

from shared.bootstrap import root
from shared.telemetry.bridge_health import SCHEDULE, run_bridge_health

blueprint = func.Blueprint()  # type: ignore[no-untyped-call]  # untyped in azure-functions


@blueprint.function_name("bridge_health")
@blueprint.timer_trigger(arg_name="timer", schedule=SCHEDULE)
async def bridge_health(timer: func.TimerRequest) -> None:
    """Report the settled windows' counters; unsent windows wait for the next run."""
    await run_bridge_health(root().bridge_health(), now=datetime.now(UTC))
