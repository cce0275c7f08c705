"""The DCR's data flows: each stream's transformKql run on every ingested batch, its output
written to the destination table of the workspace emulator.

Azure Monitor runs a transformation over each batch with the stream's declared columns as
the table ``source``, and writes the output's columns to the table named by
``outputStream`` (``Custom-<Table>``); output columns the table lacks are dropped (and
logged to DCRLogErrors). Transformations support a subset of KQL (single-table operators
such as ``where``, ``extend``, ``project``, ``parse``; scalar functions such as ``iff``,
``case``, ``coalesce``, ``tostring``); this emulator runs any KQL duckdb-kql runs, so the
subset is enforced by tests/infra/test_legacy.py (only ``extend`` over ``source``), not here.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from local.emulators.kql_engine import connect, run_typed
from local.emulators.workspace import DroppedValue, LogAnalyticsWorkspace

SOURCE = "source"


@dataclass(frozen=True)
class Flow:
    """One data flow: the stream's transformation and the table it writes."""

    transform_kql: str
    table: str


def _stored(kind: str, value: Any) -> Any:
    """An engine value as the workspace keeps it: ISO text for times, JSON for dynamic."""
    if isinstance(value, datetime):
        return value.isoformat() + ("Z" if value.tzinfo is None else "")
    if kind == "dynamic" and isinstance(value, str):
        return json.loads(value)
    return value


class DataFlows:
    """Stream -> flow, and the transformation run.

    Args:
        streams: Stream name -> its declared columns (name -> type).
        workspace: Where output rows land.
    """

    def __init__(self, streams: Mapping[str, Mapping[str, str]], workspace: LogAnalyticsWorkspace):
        self._streams = streams
        self.workspace = workspace
        self._lock = threading.Lock()
        self._flows: dict[str, Flow] = {}

    def set(self, stream: str, transform_kql: str, table: str) -> None:
        """Deploy a flow; the transformation is run once on an empty batch first.

        Raises:
            ValueError: The stream is not declared or the transformation does not run.
        """
        if stream not in self._streams:
            raise ValueError(f"stream {stream} is not declared")
        self.transform(stream, [], transform_kql)
        with self._lock:
            self._flows[stream] = Flow(transform_kql, table)

    def get(self, stream: str) -> Flow | None:
        """The stream's flow, if deployed."""
        with self._lock:
            return self._flows.get(stream)

    def clear(self) -> None:
        """Forget every flow."""
        with self._lock:
            self._flows.clear()

    def transform(
        self, stream: str, rows: Sequence[Mapping[str, Any]], transform_kql: str
    ) -> list[dict[str, Any]]:
        """Run a transformation over one batch of stream rows.

        Raises:
            ValueError: The transformation does not run.
        """
        if transform_kql.strip() == SOURCE:
            return [dict(row) for row in rows]  # the identity: no engine round trip
        columns = tuple(self._streams[stream].items())
        con = connect({SOURCE: columns}, {SOURCE: rows})
        try:
            result = run_typed(con, transform_kql)
        except Exception as exc:  # duckdb-kql and DuckDB raise their own error classes
            raise ValueError(f"transformKql does not run: {exc}") from exc
        finally:
            con.close()
        return [
            {
                name: _stored(kind, value)
                for (name, kind), value in zip(result.columns, values, strict=True)
            }
            for values in result.rows
        ]

    def deliver(self, stream: str, rows: Sequence[Mapping[str, Any]]) -> list[DroppedValue]:
        """Transform a stored batch and write it to its table (nothing without a flow)."""
        flow = self.get(stream)
        if flow is None or not rows:
            return []
        return self.workspace.ingest(flow.table, self.transform(stream, rows, flow.transform_kql))
