"""The Logs Ingestion API behind the ``RowSink`` port.

``upload(..., on_error=...)`` reports each failed chunk with its rows instead of raising
on the first and abandoning the rest, so the caller learns exactly which rows were not
accepted. The client's own retries are kept short (see ``bootstrap``): a webhook sender
is waiting, and the retry queue, not a long sleep inside a request, is where patience
belongs.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any

from azure.core.exceptions import AzureError, HttpResponseError
from azure.monitor.ingestion import LogsIngestionClient, LogsUploadError

from shared.errors import IngestionFailed, UpstreamUnavailable

logger = logging.getLogger(__name__)

# Resending the same rows cannot help: bad rows, unknown DCR/stream, too large.
PERMANENT_STATUSES = frozenset({400, 404, 413})


class LogsIngestionSink:
    """``RowSink`` over a (sync) ``LogsIngestionClient``; uploads run in a worker thread."""

    def __init__(self, client: LogsIngestionClient, rule_id: str) -> None:
        self._client = client
        self._rule_id = rule_id

    async def send(self, stream: str, rows: Sequence[dict[str, Any]]) -> None:
        """Upload ``rows`` to ``stream``; raise IngestionFailed carrying the rows not accepted."""
        await asyncio.to_thread(self._upload, stream, list(rows))

    async def probe(self, stream: str) -> None:
        """POST an empty JSON array: auth, role, DCR and stream are checked, no row is written."""
        await asyncio.to_thread(self._probe, stream)

    def _probe(self, stream: str) -> None:
        # A list input of [] sends nothing at all, so hand the SDK the bytes to send as-is.
        try:
            self._client.upload(self._rule_id, stream, io.BytesIO(b"[]"))
        except HttpResponseError as error:
            status, retry_after = _status_and_retry_after(error)
            raise UpstreamUnavailable(
                f"Logs Ingestion answered {status}",
                upstream_status=status,
                retry_after=retry_after,
            ) from None
        except AzureError as error:
            raise UpstreamUnavailable(
                f"Logs Ingestion unreachable ({type(error).__name__})"
            ) from None

    def _upload(self, stream: str, rows: list[MutableMapping[str, Any]]) -> None:
        failures: list[LogsUploadError] = []
        self._client.upload(self._rule_id, stream, rows, on_error=failures.append)
        if not failures:
            return
        failed_rows = [dict(row) for failure in failures for row in failure.failed_logs]
        status, retry_after = _status_and_retry_after(failures[-1].error)
        logger.warning(
            "Logs Ingestion refused %d of %d rows for %s (status %s)",
            len(failed_rows),
            len(rows),
            stream,
            status,
        )
        raise IngestionFailed(
            "Sentinel did not accept the event; try again later.",
            failed_rows=failed_rows,
            status=status,
            retry_after=retry_after,
            permanent=status in PERMANENT_STATUSES,
        )


def _status_and_retry_after(error: Exception) -> tuple[int | None, float | None]:
    if not isinstance(error, HttpResponseError) or error.response is None:
        return None, None  # transport failure: no answer at all
    headers: Mapping[str, str] = getattr(error.response, "headers", {})
    retry_after = headers.get("Retry-After")
    try:
        seconds = float(retry_after) if retry_after is not None else None
    except ValueError:
        seconds = None  # an HTTP-date; the default applies
    return error.status_code, seconds
