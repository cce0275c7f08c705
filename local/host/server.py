"""Composes the host: settings, app indexing, HTTP, timers and queue listeners, shutdown.

Startup order follows the real host: app settings become environment variables, then
the app is imported and indexed once, then listeners start; ``/admin/host/status``
answers only once everything is listening. Timers are singletons across hosts that share
``AzureWebJobsStorage`` and a host id (``local.host.singleton``). SIGTERM or SIGINT stops
polling and timers (releasing their locks), waits for running invocations (up to
``LOCAL_HOST_DRAIN_SECONDS``, default 30), then closes the server. After SIGKILL, held
queue messages reappear when their hold expires, and timer locks when their lease does.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from local.host.config import load_host_options, load_or_create_keys, load_settings
from local.host.hardening import limits_from_os, quiet_runner
from local.host.http_trigger import HttpTriggers
from local.host.invoke import thread_pool
from local.host.loader import import_app, index_functions
from local.host.ports import LOOPBACK
from local.host.queues import DEFAULT_HOLD_SECONDS, QueueTrigger
from local.host.singleton import BlobLease, SingletonTimer, host_id, listener_lock_name
from local.host.summary import InvocationSummary
from local.host.timers import TimerTrigger

logger = logging.getLogger(__name__)

HOLD_OVERRIDE_ENV = "LOCAL_HOST_QUEUE_HOLD_SECONDS"
STORAGE_SETTING = "AzureWebJobsStorage"
DRAIN_ENV = "LOCAL_HOST_DRAIN_SECONDS"


@dataclass(frozen=True)
class HostConfig:
    """What ``python -m local.host`` was asked to serve."""

    app_spec: str = "function_app:app"
    port: int = 7071
    settings_path: Path | None = Path("local.settings.json")
    keys_path: Path = Path(".local/function-keys.json")
    host_json_path: Path | None = Path("host.json")


async def serve(config: HostConfig) -> None:
    """Run the host until SIGTERM or SIGINT.

    Args:
        config: The app, port and files to use.

    Raises:
        local.host.loader.AppLoadError: The app cannot be served.
        local.host.config.ConfigError: A settings, host.json or keys file is unusable.
    """
    load_settings(config.settings_path, os.environ)
    options = load_host_options(config.host_json_path)
    keys = load_or_create_keys(config.keys_path)
    logger.info("Function keys in %s", config.keys_path)
    loop = asyncio.get_running_loop()
    executor = thread_pool()
    loop.set_default_executor(executor)
    functions = index_functions(import_app(config.app_spec))

    hold_seconds = int(os.environ.get(HOLD_OVERRIDE_ENV) or DEFAULT_HOLD_SECONDS)
    queue_triggers = [
        QueueTrigger(function, options.queues, hold_seconds=hold_seconds)
        for function in functions
        if function.trigger_type == "queueTrigger"
    ]
    timer_triggers = _timers(
        [TimerTrigger(f) for f in functions if f.trigger_type == "timerTrigger"], os.environ
    )
    stopping = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)

    limits = limits_from_os()
    summary = InvocationSummary()
    runner = quiet_runner(
        HttpTriggers(functions, options.route_prefix, keys, limits, summary).handle, limits
    )
    background: list[asyncio.Task[None]] = []
    try:
        background.append(asyncio.create_task(summary.run()))
        for queue_trigger in queue_triggers:
            await queue_trigger.prepare()
        background += [asyncio.create_task(trigger.run()) for trigger in queue_triggers]
        background += [asyncio.create_task(trigger.run()) for trigger in timer_triggers]
        await runner.setup()
        await web.TCPSite(runner, LOOPBACK, config.port).start()
        logger.info(
            "Host running on http://%s:%d (%d functions)", LOOPBACK, config.port, len(functions)
        )
        await _wait_for_stop(stopping, background)
        logger.info("Stopping: no new messages or timer runs")
    finally:
        await _cancel(background)
        drain_seconds = float(os.environ.get(DRAIN_ENV) or 30)
        for queue_trigger in queue_triggers:
            await queue_trigger.drain(drain_seconds)
            await queue_trigger.close()
        await runner.cleanup()
        summary.flush()
        executor.shutdown(wait=False, cancel_futures=True)
        logger.info("Host stopped")


def _timers(
    timers: list[TimerTrigger], environ: Mapping[str, str]
) -> list[TimerTrigger | SingletonTimer]:
    """Each timer as a singleton across the hosts sharing AzureWebJobsStorage and a host id.

    Without AzureWebJobsStorage (the real host refuses to start then) timers fire in
    this host alone, as before.
    """
    storage = environ.get(STORAGE_SETTING)
    if not timers or not storage:
        if timers:
            logger.warning("No %s: timers fire in this host, not as singletons", STORAGE_SETTING)
        return list(timers)
    host = host_id(environ)
    logger.info("Timers are singletons for host id %s", host)
    return [
        SingletonTimer(timer, BlobLease(storage, listener_lock_name(host, timer.function.name)))
        for timer in timers
    ]


async def _wait_for_stop(stopping: asyncio.Event, background: list[asyncio.Task[None]]) -> None:
    # A listener that dies of a bug must not leave a host that looks healthy.
    stop_task = asyncio.create_task(stopping.wait())
    done, _ = await asyncio.wait([stop_task, *background], return_when=asyncio.FIRST_COMPLETED)
    stop_task.cancel()
    for task in done:
        if task is not stop_task and not task.cancelled() and task.exception() is not None:
            raise RuntimeError("a trigger listener stopped") from task.exception()


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
