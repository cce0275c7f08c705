"""The bridge health timer: every 5 minutes, the bridge's counters into ``BridgeHealth_CL``.

The blueprint is built for a wiring getter, so the app registers it with the composition
root (``app.register_functions(bridge_health_blueprint(get_bridge))``) and tests with the
real adapters on Azurite and the emulators.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime

import azure.functions as func

from shared.telemetry.bridge_health import (
    DEFAULT_BRIDGE_NAME,
    SCHEDULE,
    HealthWiring,
    RunResult,
    run_bridge_health,
)


def bridge_health_blueprint(wiring: Callable[[], HealthWiring]) -> func.Blueprint:
    """The blueprint holding the ``bridge_health`` timer, using ``wiring`` on each run."""
    blueprint = func.Blueprint()  # type: ignore[no-untyped-call]  # untyped in azure-functions

    @blueprint.function_name("bridge_health")
    @blueprint.timer_trigger(arg_name="timer", schedule=SCHEDULE)
    async def bridge_health(timer: func.TimerRequest) -> None:
        """Report the settled windows' counters; unsent windows wait for the next run."""
        await run_once(wiring)

    return blueprint


async def run_once(wiring: Callable[[], HealthWiring]) -> RunResult:
    """One run: the wiring's adapters, the time now, and this app's name."""
    name = os.environ.get("WEBSITE_SITE_NAME", "").strip() or DEFAULT_BRIDGE_NAME
    return await run_bridge_health(wiring(), now=datetime.now(UTC), bridge_name=name)
