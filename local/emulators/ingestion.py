"""The Logs Ingestion API over HTTPS: one DCR whose streams come from infra/tables.

Contract (reference: logs-ingestion.md sections 1-6). Confirmed: the path and api-version;
the token audience ``https://monitor.azure.com``; 204 with no body on success; the error
envelope with ``x-ms-error-code``; 403 ``OperationFailed`` while a role assignment
propagates; 413 ``ContentLengthLimitExceeded`` with its message over 1,048,576 bytes on the
wire; a body that is not an array answers 204 and stores nothing. From a non-Microsoft
source: 413 ``PayloadSizeLimitExceeded`` over 50 MiB decompressed. Not confirmed, so chosen
here: the codes of 400 (``InvalidPayload``, ``UnsupportedApiVersion``), 401 and 404
(``DataCollectionRuleNotFound``, ``InvalidStream``), a 400 when an array element is not an
object, and the order of the checks (api-version, token, DCR, role, stream, size, body).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from local.emulators.dcr_flows import DataFlows
from local.emulators.faults import FaultPlan, azure_error_envelope, fault_middleware
from local.emulators.ingestion_admin import ingestion_admin_routes
from local.emulators.ingestion_body import (
    MAX_REQUEST_BYTES,
    Refusal,
    decode_body,
    read_body,
    too_long_message,
)
from local.emulators.ingestion_store import IngestionError, IngestionStore, StoredRow
from local.emulators.streams import apply_row_rules, load_streams, table_names
from local.emulators.tokens import check_bearer
from local.emulators.workspace import LogAnalyticsWorkspace

logger = logging.getLogger(__name__)

MONITOR_AUDIENCE = "https://monitor.azure.com"
API_VERSIONS = frozenset({"2023-01-01", "2021-11-01-preview"})
DEFAULT_TABLES_DIR = Path(__file__).resolve().parents[2] / "infra" / "tables"


def utc_now() -> datetime:
    """The default clock: now, in UTC."""
    return datetime.now(UTC)


__all__ = ["IngestionEmulator", "IngestionError", "StoredRow", "utc_now"]


class IngestionEmulator:
    """An in-memory Logs Ingestion endpoint for one DCR, or several (``rules``).

    Args:
        dcr_id: The DCR's immutable id (``dcr-...``).
        tables_dir: Folder of ``<Table>_CL.json`` schemas; each becomes ``Custom-<Table>``.
        audience: The token audience required (trailing slash optional).
        clock: Aware "now", for TimeGenerated rules, token expiry and receive times.
        fault_clock: Clock for fault windows.
        workspace: The workspace the DCR writes to; each stream flows untransformed
            (``source``) into its table, created from its schema, until ``flows`` says
            otherwise. A private one by default.
    """

    def __init__(
        self,
        *,
        dcr_id: str,
        tables_dir: Path = DEFAULT_TABLES_DIR,
        audience: str = MONITOR_AUDIENCE,
        clock: Callable[[], datetime] = utc_now,
        fault_clock: Callable[[], float] = time.monotonic,
        workspace: LogAnalyticsWorkspace | None = None,
    ) -> None:
        self.dcr_id = dcr_id
        self._tables_dir = tables_dir
        self.audience = audience
        self.streams = load_streams(tables_dir)
        # Several DCRs: immutable id -> the streams it declares (a DCR holds at most 10).
        self.rules: dict[str, frozenset[str]] = {dcr_id: frozenset(self.streams)}
        self.faults = FaultPlan(fault_clock)
        self.store = IngestionStore()
        self._clock = clock
        self.flows = DataFlows(self.streams, workspace or LogAnalyticsWorkspace())
        self.deploy_default_tables()

    @property
    def workspace(self) -> LogAnalyticsWorkspace:
        """The workspace the DCR writes to."""
        return self.flows.workspace

    def deploy_default_tables(self) -> None:
        """What a fresh deployment makes: each schema a table, each stream flowing into it."""
        for stream, table in table_names(self._tables_dir).items():
            self.workspace.put_table(table, list(self.streams[stream].items()))
            self.flows.set(stream, "source", table)

    @property
    def role_missing(self) -> bool:
        """Whether uploads answer 403, as while a role assignment propagates."""
        return self.store.role_missing

    @role_missing.setter
    def role_missing(self, missing: bool) -> None:
        self.store.role_missing = missing

    def rows(self, stream: str | None = None) -> list[StoredRow]:
        """Accepted rows, oldest first, of one stream or all."""
        return self.store.rows(stream)

    def clear_rows(self, stream: str | None = None) -> None:
        """Forget the accepted rows of one stream or all."""
        self.store.clear_rows(stream)

    def clear_errors(self) -> None:
        """Forget the error log."""
        self.store.clear_errors()

    def errors(self) -> list[IngestionError]:
        """Every value dropped or changed and every silent failure, oldest first."""
        return self.store.errors()

    def stats(self) -> dict[str, Any]:
        """Per-stream counters and refusals by status, JSON-ready."""
        return self.store.stats()

    def reset(self) -> None:
        """Forget rows, errors, counters and faults; grant the role again."""
        self.faults.clear()
        self.store.reset()
        self.flows.clear()
        self.workspace.reset()
        self.deploy_default_tables()

    def build_app(self) -> web.Application:
        """A fresh aiohttp app over this emulator's state (one per server start)."""
        app = web.Application(
            middlewares=[fault_middleware(self.faults)],
            # Decompress ourselves: the wire size is what the service limits and counts.
            handler_args={"auto_decompress": False},
        )
        app.add_routes(
            [
                web.post("/dataCollectionRules/{dcr_id}/streams/{stream}", self._upload),
                *ingestion_admin_routes(self.store, self.faults),
            ]
        )
        return app

    async def _upload(self, request: web.Request) -> web.Response:
        try:
            return await self._accept(request)
        except Refusal as refusal:
            self.store.count_refusal(refusal.status)
            logger.info("ingestion: refused %d %s", refusal.status, refusal.code)
            return web.json_response(
                azure_error_envelope(refusal.status, refusal.code, refusal.message),
                status=refusal.status,
                headers={"x-ms-error-code": refusal.code},
            )

    def _check_route(self, request: web.Request) -> str:
        if request.query.get("api-version") not in API_VERSIONS:
            raise Refusal(400, "UnsupportedApiVersion", "The api-version is not supported.")
        problem = check_bearer(request, self.audience, self._clock().timestamp())
        if problem is not None:
            raise Refusal(401, problem.code, problem.message)
        dcr_id = request.match_info["dcr_id"]
        if dcr_id not in self.rules:
            message = "No data collection rule has the immutable id in the request."
            raise Refusal(404, "DataCollectionRuleNotFound", message)
        if self.store.role_missing:
            message = (
                "The authentication token provided does not have access to ingest data for "
                f"the data collection rule with immutable Id '{dcr_id}'. "
                "AccessGranted: False, IsRbacPresent: False"
            )
            raise Refusal(403, "OperationFailed", message)
        stream = request.match_info["stream"]
        if stream not in self.streams or stream not in self.rules[dcr_id]:
            raise Refusal(404, "InvalidStream", f"Stream {stream} is not declared in the DCR.")
        return stream

    async def _accept(self, request: web.Request) -> web.Response:
        stream = self._check_route(request)
        self.store.count_request(stream)
        declared = request.content_length
        if declared is not None and declared > MAX_REQUEST_BYTES:
            raise Refusal(413, "ContentLengthLimitExceeded", too_long_message(declared))
        wire = await read_body(request)
        body = decode_body(wire, request.headers.get("Content-Encoding", ""))
        self.store.count_bytes(stream, wire=len(wire), decompressed=len(body))
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise Refusal(400, "InvalidPayload", "The body is not valid JSON.") from exc
        received_at = self._clock()
        request_id = request.headers.get("x-ms-client-request-id")
        if not isinstance(payload, list):
            # The documented silent failure: 204, nothing stored (SDK issue #32562).
            error = IngestionError(
                received_at, stream, request_id, "NotAnArray", "Body is not a JSON array."
            )
            self.store.log_error(error)
            logger.info("ingestion: %s body is not an array; 204, nothing stored", stream)
            return web.Response(status=204)
        if not all(isinstance(item, dict) for item in payload):
            raise Refusal(400, "InvalidPayload", "Every array element must be a JSON object.")
        self._store(stream, payload, received_at, request_id)
        return web.Response(status=204)

    def _store(
        self,
        stream: str,
        payload: list[dict[str, Any]],
        received_at: datetime,
        request_id: str | None,
    ) -> None:
        columns = self.streams[stream]
        new_rows: list[StoredRow] = []
        new_errors: list[IngestionError] = []
        for index, item in enumerate(payload):
            stored, issues = apply_row_rules(item, columns, received_at)
            new_rows.append(StoredRow(stream, stored, received_at, request_id))
            new_errors.extend(
                IngestionError(received_at, stream, request_id, i.kind, i.message, i.column, index)
                for i in issues
            )
        self.store.accept(stream, new_rows, new_errors)
        dropped = self.flows.deliver(stream, [row.row for row in new_rows])
        self.store.extend_errors(
            IngestionError(
                received_at,
                stream,
                request_id,
                "UnknownColumn",
                f"{d.table} has no column {d.column}; the transformation's value is dropped.",
                d.column,
                d.row_index,
            )
            for d in dropped
        )
        logger.info(
            "ingestion: accepted %d rows for %s (%d values dropped or changed)",
            len(new_rows),
            stream,
            len(new_errors),
        )
