"""Polling for a condition that another process or thread brings about."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(
    probe: Callable[[], T | None], what: str = "", *, timeout: float = 15.0, interval: float = 0.05
) -> T:
    """Poll ``probe`` until it returns something truthy; fail after ``timeout`` seconds.

    Args:
        probe: Returns the awaited result, or something falsy while it is not there yet.
        what: What is awaited, for the failure message.
        timeout: How long to wait, in seconds.
        interval: The pause between two probes, in seconds.

    Returns:
        The first truthy result.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = probe()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what or probe}")
