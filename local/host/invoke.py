"""Calling a user function the way the Python worker does, and the host's log format.

Coroutine functions are awaited on the host's single event loop, so concurrent
invocations share it (a blocking call in one stalls the others, as in production).
Plain functions run in a thread pool sized by ``PYTHON_THREADPOOL_THREAD_COUNT``
(default: Python's own default). Each invocation is logged once: function, outcome,
duration, never arguments or results; a caller may lower the level of a success line
(HTTP does, for answers below 500: see ``local.host.summary``).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TextIO

from local.host.loader import LoadedFunction

logger = logging.getLogger(__name__)

# The function name on every log record emitted during its invocation (host when none).
current_function: contextvars.ContextVar[str] = contextvars.ContextVar(
    "current_function", default="host"
)
_LOG_FORMAT = "%(asctime)s %(levelname)s [%(function_name)s] %(name)s: %(message)s"


class _FunctionNameFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.function_name = current_function.get()
        return True


def configure_logging(level: int = logging.INFO, stream: TextIO | None = None) -> None:
    """Send every log record to stderr with a timestamp and the running function's name."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(_FunctionNameFilter())
    handler.setFormatter(logging.Formatter(_LOG_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # The Azure SDK logs every storage request at INFO; the host's pollers would drown the app.
    logging.getLogger("azure").setLevel(logging.WARNING)


def thread_pool(environ: Mapping[str, str] = os.environ) -> ThreadPoolExecutor:
    """The pool sync functions run in, sized like the worker's."""
    configured = environ.get("PYTHON_THREADPOOL_THREAD_COUNT")
    workers = int(configured) if configured else None
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="function")


async def invoke(
    function: LoadedFunction,
    argument: Any,
    *,
    trigger_detail: str = "",
    describe_result: Callable[[Any], str] | None = None,
    success_level: Callable[[Any], int] | None = None,
) -> Any:
    """Run ``function`` with its trigger ``argument``; log one line with outcome and duration.

    Args:
        function: The function to run.
        argument: The trigger value (HttpRequest, TimerRequest, QueueMessage).
        trigger_detail: A short, non-sensitive note for the log line (e.g. a message id).
        describe_result: Turns the result into a short note for the log line (a status).
        success_level: The log level of the line for a given result (default INFO).

    Returns:
        What the function returned.

    Raises:
        Exception: Whatever the function raised, after logging it with its traceback.
    """
    token = current_function.set(function.name)
    started = time.perf_counter()
    try:
        kwargs = {function.arg_name: argument}
        try:
            if function.is_async:
                result = await function.user_function(**kwargs)
            else:
                # to_thread copies the context, so the function's log records carry its name.
                result = await asyncio.to_thread(function.user_function, **kwargs)
        except Exception:
            elapsed_ms = (time.perf_counter() - started) * 1000
            logger.exception(
                "Executed %s (Failed, %s, %.0f ms)", function.name, trigger_detail, elapsed_ms
            )
            raise
        level = success_level(result) if success_level is not None else logging.INFO
        if logger.isEnabledFor(level):
            elapsed_ms = (time.perf_counter() - started) * 1000
            outcome = describe_result(result) if describe_result is not None else "Succeeded"
            logger.log(
                level,
                "Executed %s (%s, %s, %.0f ms)",
                function.name,
                outcome,
                trigger_detail,
                elapsed_ms,
            )
        return result
    finally:
        current_function.reset(token)
