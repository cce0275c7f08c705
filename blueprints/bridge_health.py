"""The bridge health timer: every 5 minutes, the bridge's counters into ``BridgeHealth_CL``."""

from __future__ import annotations

from datetime import UTC, datetime

import azure.functions as func

from shared.bootstrap import BRIDGE_HEALTH_SCHEDULE, edges

blueprint = func.Blueprint()  # type: ignore[no-untyped-call]  # untyped in azure-functions


@blueprint.function_name("bridge_health")
@blueprint.timer_trigger(arg_name="timer", schedule=BRIDGE_HEALTH_SCHEDULE)
async def bridge_health(timer: func.TimerRequest) -> None:
    """Report the settled windows' counters; unsent windows wait for the next run."""
    await edges().report_bridge_health(datetime.now(UTC))
