"""The local Azure each benchmark runs on: the emulators and Azurite, and the app settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from local.azurite import Azurite
from local.emulators.stack import EmulatorStack


def peak_rss_mb(pid: int) -> float:
    """A process's peak resident memory so far (``VmHWM``), in MB; NaN where /proc has none."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return float("nan")
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextmanager
def local_azure(
    scratch: Path, *, fault_clock: Callable[[], float] | None = None
) -> Iterator[tuple[EmulatorStack, dict[str, str]]]:
    """Start the emulators and Azurite in ``scratch``; yield the stack and the app settings."""
    options = {"fault_clock": fault_clock} if fault_clock is not None else {}
    with (
        EmulatorStack(scratch / "emulators", **options) as stack,  # type: ignore[arg-type]
        Azurite(scratch / "azurite") as azurite,
    ):
        yield (
            stack,
            {
                **stack.app_environment(),
                "AzureWebJobsStorage": azurite.connection_string,
                "RETRY_QUEUE_NAME": "bench-retries",
                "LOCAL_HOST_MAX_POLLING_INTERVAL_SECONDS": "0.5",
                "INCIDENT_POLL_SCHEDULE": "0 */5 * * * *",
            },
        )
