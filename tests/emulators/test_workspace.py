"""The workspace emulator: classic tables as the Data Collector API made them, the tables'
ARM routes and migrate action, and the DCR's transformation on each ingested batch."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from azure.identity import ManagedIdentityCredential

from local.emulators import EmulatorStack
from local.emulators.workspace import CLASSIC, DCR_BASED, LogAnalyticsWorkspace
from tests.emulators.legacy_support import arm, send, table_path
from tests.payloads import parsed


def test_data_collector_records_become_suffixed_columns() -> None:
    """Microsoft's sample body: string _s, number _d, boolean _b, ISO time _t, GUID _g;
    nested objects flattened with _; a null makes no column."""
    workspace = LogAnalyticsWorkspace()
    records = [*parsed("data_collector_request_body.json"), {"Nested": {"Inner": "x"}, "N": None}]
    table = workspace.seed_classic("MyRecordType_CL", records)
    assert table.sub_type == CLASSIC
    assert table.columns == [
        ("TimeGenerated", "datetime"),
        ("StringValue_s", "string"),
        ("NumberValue_d", "real"),
        ("BooleanValue_b", "boolean"),
        ("DateValue_t", "datetime"),
        ("GUIDValue_g", "string"),
        ("Nested_Inner_s", "string"),
    ]
    assert table.rows[0]["NumberValue_d"] == 42


def test_tables_over_arm(
    stack: EmulatorStack, credential: ManagedIdentityCredential, tmp_path: Path
) -> None:
    """GET shows tableSubType; a classic table's schema cannot be PUT before migrate; the
    migrate action keeps columns and rows; a later PUT adds columns; unknown tables 404."""
    client = arm(stack, credential)
    stack.workspace.seed_classic("Old_CL", [{"name": "a"}])
    path = table_path(stack, "Old_CL")
    status, body = client.call("GET", path)
    assert status == 200
    assert body["properties"]["schema"]["tableSubType"] == CLASSIC
    columns = {"properties": {"schema": {"columns": [{"name": "New", "type": "string"}]}}}
    status, body = client.call("PUT", path, columns)
    assert (status, body["error"]["code"]) == (400, "InvalidParameter")
    assert client.call("POST", f"{path}/migrate")[0] == 200
    status, body = client.call("PUT", path, columns)
    assert status == 200
    schema = body["properties"]["schema"]
    assert schema["tableSubType"] == DCR_BASED
    assert [c["name"] for c in schema["columns"]] == ["TimeGenerated", "name_s", "New"]
    table = stack.workspace.table("Old_CL")
    assert table is not None
    assert table.rows[0]["name_s"] == "a"
    assert client.call("GET", table_path(stack, "Nothing_CL"))[0] == 404
    assert client.call("POST", f"{table_path(stack, 'Nothing_CL')}/migrate")[0] == 404
    retyped = {"properties": {"schema": {"columns": [{"name": "name_s", "type": "long"}]}}}
    assert client.call("PUT", path, retyped)[0] == 400


def test_a_table_route_needs_a_known_api_version(
    stack: EmulatorStack, credential: ManagedIdentityCredential
) -> None:
    """An api-version the tables API does not have answers 400."""
    status, body = arm(stack, credential, "2015-01-01").call("GET", table_path(stack, "X_CL"))
    assert (status, body["error"]["code"]) == (400, "InvalidApiVersionParameter")


def test_the_transformation_runs_on_each_batch_and_output_is_checked(
    stack: EmulatorStack, credential: ManagedIdentityCredential
) -> None:
    """The flow's transformKql runs over the stream rows; an output column the destination
    table lacks is dropped and logged, the rest lands."""
    stack.ingestion.flows.set(
        "Custom-FigEvents",
        'source | extend Extra_s = "x", Message = strcat("m:", EventType)',
        "FigEvents_CL",
    )
    now = datetime.now(UTC).isoformat()
    send(stack, credential, "FigEvents_CL", [{"TimeGenerated": now, "EventType": "SecurityEvent"}])
    table = stack.workspace.table("FigEvents_CL")
    assert table is not None
    [row] = table.rows
    assert row["Message"] == "m:SecurityEvent"
    assert "Extra_s" not in row
    dropped = [e for e in stack.ingestion.errors() if e.kind == "UnknownColumn"]
    assert [(e.column, e.row_index) for e in dropped] == [("Extra_s", 0)]


def test_a_transformation_that_does_not_run_is_not_deployed(stack: EmulatorStack) -> None:
    """Like a DCR deployment with a broken transformKql, set() refuses it."""
    with pytest.raises(ValueError, match="transformKql does not run"):
        stack.ingestion.flows.set("Custom-FigEvents", "source | extend = ", "FigEvents_CL")
    flow = stack.ingestion.flows.get("Custom-FigEvents")
    assert flow is not None
    assert flow.transform_kql == "source"


def test_saved_searches_and_bad_bodies_over_arm(
    stack: EmulatorStack, credential: ManagedIdentityCredential
) -> None:
    """A saved search needs a functionAlias and a query; a column needs a known type; a table
    schema needs columns; routes answer only their methods."""
    searches = arm(stack, credential, "2020-08-01")
    base = table_path(stack, "X_CL").rsplit("/tables/", 1)[0]
    status, body = searches.call("PUT", f"{base}/savedSearches/s1", {"properties": {"query": "x"}})
    assert (status, body["error"]["code"]) == (400, "InvalidParameter")
    ok = {"properties": {"functionAlias": "Fn", "query": "print 1"}}
    assert searches.call("PUT", f"{base}/savedSearches/s1", ok)[0] == 200
    status, body = searches.call("GET", f"{base}/savedSearches/s1")
    assert (status, body["value"]) == (200, {"Fn": "print 1"})
    assert searches.call("DELETE", f"{base}/savedSearches/s1")[0] == 404
    tables = arm(stack, credential)
    odd = {"properties": {"schema": {"columns": [{"name": "A", "type": "text"}]}}}
    assert tables.call("PUT", table_path(stack, "X_CL"), odd)[0] == 400
    assert tables.call("PUT", table_path(stack, "X_CL"), {"properties": {}})[0] == 400
    assert tables.call("DELETE", table_path(stack, "X_CL"))[0] == 404
    assert tables.call("GET", f"{table_path(stack, 'X_CL')}/migrate")[0] == 404
