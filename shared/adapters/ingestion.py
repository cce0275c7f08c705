"""The Logs Ingestion API behind the ``RowSink`` port, with full requests and exact failures.

The SDK cuts chunks at 1 MiB of *uncompressed* JSON (about 200 KB on the wire). Here
rows are fitted to the 64 KB field limit (``fit_row``) and packed into gzip bodies as full
as the 1 MB request limit allows *after* compression (``pack``); each body goes to the SDK
as a pre-gzipped stream, one request each. A body that fails reports exactly its own
rows, so rows already accepted are never sent again. A row too large for any request is
refused as permanent, with the reason.

The client's own retries are kept short (see ``bootstrap``): a webhook sender is waiting,
and the retry queue, not a long sleep inside a request, is where patience belongs.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import AzureError, HttpResponseError
from azure.monitor.ingestion import LogsIngestionClient

from shared.config.dcr_routes import rule_for
from shared.delivery import DEFAULT_MAX_BODY_BYTES, classify, fit_row_encoded, pack_encoded
from shared.delivery.coalesce import Coalescer
from shared.delivery.policy import Outcome
from shared.errors import IngestionFailed, Refused, UpstreamUnavailable

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class UploadCounts:
    """What one ``upload`` did, for benchmarks and health counters."""

    requests: int
    wire_bytes: int


class LogsIngestionSink:
    """``RowSink`` over a (sync) ``LogsIngestionClient``; uploads run in a worker thread.

    Each stream goes to the DCR ``routes`` names for it, else to ``rule_id``.
    """

    def __init__(
        self,
        client: LogsIngestionClient,
        rule_id: str,
        *,
        routes: Mapping[str, str] | None = None,
        coalesce_window_seconds: float = 0.0,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        self._client = client
        self._rule_id = rule_id
        self._routes = routes or {}
        self._max_body_bytes = max_body_bytes
        self._coalescer = (
            Coalescer(self.upload, window_seconds=coalesce_window_seconds)
            if coalesce_window_seconds > 0
            else None
        )

    async def send(self, stream: str, rows: Sequence[dict[str, Any]]) -> None:
        """Upload ``rows`` to ``stream``; raise IngestionFailed naming the rows not accepted.

        With a coalescing window, rows from concurrent callers share requests; each caller
        still learns only of its own rows.
        """
        if self._coalescer is not None:
            refused = await self._coalescer.upload(stream, rows)
        else:
            refused = await asyncio.to_thread(self.upload, stream, rows)
        raise_if_refused(stream, len(rows), refused)

    def upload(self, stream: str, rows: Sequence[Mapping[str, Any]]) -> list[Refused]:
        """Pack and send ``rows``; return what was refused, by row index (blocking)."""
        # A generator: each row's JSON lives only until it is compressed (a 16 MiB batch
        # would otherwise hold every row's encoding at once).
        fitted = (fit_row_encoded(row) for row in rows)
        packed = pack_encoded(fitted, max_body_bytes=self._max_body_bytes)
        refused = [
            Refused((o.index,), 413, None, o.reason, permanent=True, rows=(o.row,))
            for o in packed.oversized
        ]
        left_out = {o.index for o in packed.oversized}
        kept = [i for i in range(len(rows)) if i not in left_out]
        start = 0
        for body in packed.bodies:
            indices = tuple(kept[start : start + len(body.rows)])
            start += len(body.rows)
            failure = self._send_body(stream, body.body)
            if failure is not None:
                status, retry_after, reason = failure
                permanent = status is not None and classify(status) is Outcome.PERMANENT
                refused.append(
                    Refused(indices, status, retry_after, reason, permanent, tuple(body.rows))
                )
        return sorted(refused, key=lambda r: r.indices[0])

    def _send_body(self, stream: str, body: bytes) -> tuple[int | None, float | None, str] | None:
        try:
            # A seekable stream starting 1f 8b is sent as-is with Content-Encoding: gzip.
            rule = rule_for(stream, self._routes, self._rule_id)
            self._client.upload(rule, stream, io.BytesIO(body))
        except HttpResponseError as error:
            status, retry_after = status_and_retry_after(error)
            return status, retry_after, f"Logs Ingestion answered {status}"
        except AzureError as error:
            return None, None, f"Logs Ingestion unreachable ({type(error).__name__})"
        return None

    async def probe(self, stream: str) -> None:
        """POST an empty JSON array: auth, role, DCR and stream are checked, no row is written."""
        failure = await asyncio.to_thread(self._send_body, stream, b"[]")
        if failure is not None:
            status, retry_after, reason = failure
            raise UpstreamUnavailable(reason, upstream_status=status, retry_after=retry_after)


def raise_if_refused(stream: str, total: int, refused: Sequence[Refused]) -> None:
    """Raise IngestionFailed for ``refused`` (no-op when nothing was refused)."""
    if not refused:
        return
    count = sum(len(r.indices) for r in refused)
    last = refused[-1]
    logger.warning(
        "Logs Ingestion refused %d of %d rows for %s (status %s)", count, total, stream, last.status
    )
    raise IngestionFailed(
        "Sentinel did not accept the event; try again later.",
        refused=list(refused),
        status=last.status,
        retry_after=max((r.retry_after or 0 for r in refused), default=0) or None,
    )


def status_and_retry_after(error: HttpResponseError) -> tuple[int | None, float | None]:
    """The HTTP status and ``Retry-After`` seconds of a failed request."""
    if error.response is None:
        return None, None
    headers: Mapping[str, str] = getattr(error.response, "headers", {})
    retry_after = headers.get("Retry-After")
    try:
        seconds = float(retry_after) if retry_after is not None else None
    except ValueError:
        seconds = None  # an HTTP-date; the default applies
    return error.status_code, seconds
