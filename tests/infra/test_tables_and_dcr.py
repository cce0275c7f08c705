"""Tables, DCR and code agree: every schema file is a table, a stream and a data flow.

Bicep cannot be compiled here, so these tests check the expressions the templates use
(a loop over the ``tables`` list built from ``loadJsonContent``) and then apply the same
rule to the schema files in Python, to show what the deployment produces.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from local.emulators import ingestion as ingestion_emulator
from local.emulators.streams import load_streams
from shared.rows import schema
from tests.infra.bicep import (
    INFRA,
    MAIN,
    REPO,
    TABLES_DIR,
    accessor_path,
    bicep_files,
    function_call,
    load_table,
    module_path,
    one_resource,
    parse,
    resources,
    stream_of,
    table_files,
    variables,
    walk,
)
from tests.infra.typecheck import check_infra

DCR = module_path("dcr")
WORKSPACE = module_path("workspace")
STREAM = module_path("stream")
TABLE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*_CL$")
COLUMN_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,44}$")
RESERVED_COLUMNS = {"_ResourceId", "id", "_SubscriptionId", "TenantId", "Type", "UniqueId", "Title"}
COMMENT = re.compile(r"(?<![:'])//.*$", re.M)  # a comment, not the // of https://
COLUMN_TYPES = {"string", "int", "long", "real", "boolean", "datetime", "dynamic"}


def listed_table_files() -> list[str]:
    """The files main.bicep's ``tables`` list loads, in order."""
    listed = []
    for entry in variables(MAIN)["tables"]:
        call = function_call(entry, "load_json_content")
        assert call is not None, f"tables entries must be loadJsonContent(...), got {entry!r}"
        assert call["json_path"] is None, "load the whole schema file"
        listed.append(call["file_path"])
    return listed


def listed_tables() -> list[dict[str, Any]]:
    """The schemas main.bicep deploys, read the way loadJsonContent reads them."""
    return [load_table(INFRA / relative) for relative in listed_table_files()]


def test_every_table_file_is_listed_once_in_main() -> None:
    """Each infra/tables/*.json is loaded by exactly one line of main.bicep, and nothing else."""
    listed = listed_table_files()
    assert len(listed) == len(set(listed)), "a table file is listed twice"
    assert sorted(listed) == [f"tables/{p.name}" for p in table_files()]


@pytest.mark.parametrize("path", table_files(), ids=lambda p: p.name)
def test_table_files_are_deployable_schemas(path: Path) -> None:
    """Names, types and column rules the table API and the DCR accept."""
    table = load_table(path)
    assert table["name"] == path.stem
    assert TABLE_NAME.match(table["name"]), "table names go into JSON text unescaped"
    assert isinstance(table.get("description"), str)
    names = [c["name"] for c in table["columns"]]
    assert len(names) == len(set(names)), "a column is written twice"
    for column in table["columns"]:
        assert COLUMN_NAME.match(column["name"]), column["name"]
        assert column["name"] not in RESERVED_COLUMNS, column["name"]
        assert column["type"] in COLUMN_TYPES, column
    assert {"name": "TimeGenerated", "type": "datetime"}.items() <= next(
        c for c in table["columns"] if c["name"] == "TimeGenerated"
    ).items()


def test_main_builds_tables_and_streams_from_the_same_list() -> None:
    """One stream module per entry of ``tables`` (with its source's table mode); the
    workspace deploys each module's table and functions; the DCR gets every stream."""
    modules = parse(MAIN)["modules"]
    assert modules["workspace"]["detail"]["path"] == "app/workspace.bicep"
    workspace_params = modules["workspace"]["config"]["params"]
    for param, output in (("tables", "table"), ("functionLists", "functions")):
        handed = workspace_params[param]
        assert function_call(handed["loop_type"]["detail"]["array_name"], "range") is not None
        assert accessor_path(handed["config"])[-2:] == ["outputs", output], param
    streams = modules["streams"]
    assert streams["detail"]["path"] == "app/stream.bicep"
    assert streams["config"]["loop_type"]["detail"] == {
        "item_name": "table",
        "array_name": "tables",
    }
    stream_params = streams["config"]["config"]["params"]
    assert stream_params["table"] == "table"
    assert set(stream_params) == {"table", "mode", "classicTable", "legacy", "perTypeFunctions"}
    dcr = modules["dcr"]
    assert dcr["detail"]["path"] == "app/dcr.bicep"
    handed = dcr["config"]["params"]["streams"]
    index = handed["loop_type"]["detail"]["item_name"]
    every_index = function_call(handed["loop_type"]["detail"]["array_name"], "range")
    assert every_index is not None
    assert every_index["start_index"] == 0
    assert function_call(every_index["count"], "length") == {"arg_1": "tables"}
    assert handed["config"] == {
        "operator": {
            "type": "property_accessor",
            "operands": {
                "operand_1": {
                    "operator": {
                        "type": "index_accessor",
                        "operands": {"operand_1": "streams", "operand_2": index},
                    }
                },
                "operand_2": {
                    "operator": {
                        "type": "property_accessor",
                        "operands": {"operand_1": "outputs", "operand_2": "stream"},
                    }
                },
            },
        }
    }


def test_each_table_is_a_custom_analytics_table_with_its_own_columns() -> None:
    """One tables resource per schema: its name, Analytics plan, retention, columns from JSON."""
    table = one_resource(WORKSPACE, "Microsoft.OperationalInsights/workspaces/tables")
    assert table.loop is not None
    assert table.loop["detail"]["array_name"] == "tables"
    item = table.loop["detail"]["item_name"]
    body = table.body
    properties = body["properties"]
    assert body["parent"] == "workspace"
    assert accessor_path(body["name"]) == [item, "name"]
    assert properties["plan"] == "Analytics"
    assert properties["retentionInDays"] == "retentionInDays"
    assert properties["totalRetentionInDays"] == "totalRetentionInDays"
    assert accessor_path(properties["schema"]["name"]) == [item, "name"]
    # The columns are the JSON file's, passed through: not restated here.
    assert accessor_path(properties["schema"]["columns"]) == [item, "columns"]


def test_the_dcrs_are_direct_and_declare_ten_streams_each() -> None:
    """kind Direct; one rule per 10 streams, each declaring its slice of the stream modules';
    a shared DCE only with several rules."""
    dcr = one_resource(DCR, "Microsoft.Insights/dataCollectionRules")
    assert dcr.body["kind"] == "Direct"
    assert dcr.loop is not None
    assert dcr.loop["detail"]["item_name"] == "r"
    assert function_call(dcr.loop["detail"]["array_name"], "range") == {
        "start_index": 0,
        "count": "ruleCount",
    }
    dcr_vars = variables(DCR)
    assert dcr_vars["streamsPerRule"] == 10
    text = DCR.read_text(encoding="utf-8")
    assert "var ruleCount = (length(streams) + streamsPerRule - 1) / streamsPerRule" in text
    assert "var sharedEndpoint = ruleCount > 1" in text
    endpoint = dcr.body["properties"]["dataCollectionEndpointId"]["operator"]
    assert endpoint["type"] == "conditional"
    assert endpoint["operands"]["condition"] == "sharedEndpoint"
    assert endpoint["operands"]["false_value"] is None
    members = dcr_vars["declarationMembers"]
    assert members["loop_type"]["detail"] == {"item_name": "stream", "array_name": "streams"}
    assert accessor_path(members["config"]) == ["stream", "declaration"]
    declarations = function_call(dcr.body["properties"]["streamDeclarations"], "json")
    sliced = "take(skip(declarationMembers, r * streamsPerRule), streamsPerRule)"
    assert declarations == {"arg_1": "{${join(" + sliced + ", ',')}}"}


def test_stream_module_derives_the_name_and_keeps_name_and_type_only() -> None:
    """stream.bicep: Custom-<Table without _CL>; columns mapped to {name, type}; JSON member."""
    stream_vars = variables(STREAM)
    text = STREAM.read_text(encoding="utf-8")
    assert "var baseName = substring(table.name, 0, length(table.name) - length('_CL'))" in text
    assert stream_vars["streamName"] == "Custom-${baseName}"
    loop = stream_vars["streamColumns"]
    detail = loop["loop_type"]["detail"]
    assert detail["item_name"] == "column"
    assert accessor_path(detail["array_name"]) == ["table", "columns"]
    assert {key: accessor_path(value) for key, value in loop["config"].items()} == {
        "name": ["column", "name"],
        "type": ["column", "type"],
    }
    output = parse(STREAM)["outputs"]["stream"]["value"]
    assert output["name"] == "streamName"
    assert output["table"] == "destination"
    assert output["declaration"] == '"${streamName}": ${string({ columns: streamColumns })}'


def test_the_stream_declarations_text_is_valid_json_for_every_table() -> None:
    """What the DCR's JSON assembly yields for today's files: one declaration per table."""
    members = []
    for table in listed_tables():
        name = table["name"]
        stream = "Custom-" + name[0 : len(name) - len("_CL")]  # stream.bicep's substring
        columns = [{"name": c["name"], "type": c["type"]} for c in table["columns"]]
        members.append(f'"{stream}": {json.dumps({"columns": columns})}')  # its declaration
    declared = json.loads("{" + ",".join(members) + "}")
    assert set(declared) == {stream_of(t["name"]) for t in listed_tables()}
    for table in listed_tables():
        columns = declared[stream_of(table["name"])]["columns"]
        assert [(c["name"], c["type"]) for c in columns] == [
            (c["name"], c["type"]) for c in table["columns"]
        ]


def test_each_stream_flows_into_its_table_with_its_transformation() -> None:
    """One data flow per table: its stream -> Custom-<destination> with the stream module's
    transformKql ('source' unless the table is migrated: tests/infra/test_legacy.py)."""
    dcr = one_resource(DCR, "Microsoft.Insights/dataCollectionRules")
    flows = dcr.body["properties"]["dataFlows"]
    assert flows["loop_type"]["detail"]["item_name"] == "stream"
    # The same slice of streams as the rule's declarations.
    assert (
        "dataFlows: [for stream in take(skip(streams, r * streamsPerRule), streamsPerRule): {"
        in (DCR.read_text(encoding="utf-8"))
    )
    flow = flows["config"]
    assert flow["outputStream"] == "Custom-${stream.table}"
    assert [accessor_path(s) for s in flow["streams"]] == [["stream", "name"]]
    assert flow["destinations"] == ["workspaceDestination"]
    assert accessor_path(flow["transformKql"]) == ["stream", "transformKql"]
    destination = dcr.body["properties"]["destinations"]["logAnalytics"]
    assert destination == [{"name": "workspaceDestination", "workspaceResourceId": "workspaceId"}]


def test_no_template_overwrites_time_or_restates_a_column() -> None:
    """No now() anywhere, no literal column list, no schema column named in the Bicep."""
    column_names = {c["name"] for t in listed_tables() for c in t["columns"]}
    for path in bicep_files():
        text = path.read_text(encoding="utf-8")
        code = COMMENT.sub("", text)
        assert "now()" not in code.replace(" ", "").lower(), f"{path.name} uses now()"
        for name in column_names:
            assert f"'{name}'" not in text, f"{path.name} restates column {name}"
        for node in walk(parse(path)):
            # An empty list (no legacy columns) restates nothing.
            if isinstance(node, dict) and isinstance(node.get("columns"), list) and node["columns"]:
                pytest.fail(f"{path.name} writes a column list by hand")
        for kql in re.findall(r"transformKql:\s*'([^']*)'", text):
            assert kql == "source", f"{path.name}: transformKql {kql!r}"


def test_dcr_errors_go_to_the_workspace_and_raise_alerts() -> None:
    """Diagnostic setting LogErrors -> DCRLogErrors; alerts on dropped rows and logged errors."""
    by_type = {r.type: r for r in resources(DCR)}
    setting = by_type["Microsoft.Insights/diagnosticSettings"]
    assert accessor_path(setting.body["scope"]) == ["dcrs"]
    assert setting.body["properties"]["workspaceId"] == "workspaceId"
    assert setting.body["properties"]["logs"] == [{"category": "LogErrors", "enabled": True}]

    metric = by_type["Microsoft.Insights/metricAlerts"].body["properties"]
    [criterion] = metric["criteria"]["allOf"]
    assert criterion["metricName"] == "RowsDropped_Count"
    assert criterion["operator"] == "GreaterThan"
    assert criterion["threshold"] == 0
    assert [accessor_path(scope) for scope in metric["scopes"]] == [["dcrs", "id"]]

    log_alert = by_type["Microsoft.Insights/scheduledQueryRules"].body["properties"]
    [query] = log_alert["criteria"]["allOf"]
    assert query["query"].startswith("DCRLogErrors ")
    assert log_alert["scopes"] == ["workspaceId"]
    assert log_alert["skipQueryValidation"] is True


def _code_streams() -> set[str]:
    """Stream names the Python code writes: its ``<Table>_CL`` and ``Custom-...`` literals."""
    sources = [
        REPO / "function_app.py",
        *REPO.glob("shared/**/*.py"),
        *REPO.glob("blueprints/*.py"),
    ]
    streams = set()
    for path in sources:
        if not path.is_file():
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if TABLE_NAME.match(node.value):
                    streams.add(stream_of(node.value))
                elif re.fullmatch(r"Custom-[A-Za-z][A-Za-z0-9_]*", node.value):
                    streams.add(node.value)
    return streams


def test_every_stream_the_code_writes_is_declared() -> None:
    """Each table or stream the app names is deployed; a source without a table fails here."""
    code = _code_streams()
    assert "Custom-FigEvents" in code, "the scan found no stream in the code"
    deployed = {stream_of(t["name"]) for t in listed_tables()}
    assert code <= deployed, f"written but not in the DCR: {sorted(code - deployed)}"


def test_the_app_and_the_emulators_read_the_same_schema_files() -> None:
    """shared.rows.schema and the ingestion emulator read infra/tables, as the Bicep does."""
    assert schema.TABLES_DIR == TABLES_DIR
    assert ingestion_emulator.DEFAULT_TABLES_DIR == TABLES_DIR
    expected = {
        stream_of(t["name"]): {c["name"]: c["type"] for c in t["columns"]} for t in listed_tables()
    }
    assert load_streams(TABLES_DIR) == expected
    for table in listed_tables():
        loaded = schema.load_table(table["name"])
        assert loaded.stream == stream_of(table["name"])
        assert [(c.name, c.type) for c in loaded.columns] == [
            (c["name"], c["type"]) for c in table["columns"]
        ]


def test_twelve_tables_type_check_and_need_two_rules(tmp_path: Path) -> None:
    """A copy of infra/ with twelve tables listed type-checks; 12 streams make two rules, and
    LOGS_INGESTION_DCR_ROUTES maps each stream to its rule (tests/functions/test_dcr_routing)."""
    copy = tmp_path / "infra"
    shutil.copytree(INFRA, copy)
    template = load_table(TABLES_DIR / "FigEvents_CL.json")
    lines = []
    for number in range(1, 13 - len(listed_tables())):
        name = f"Test{number:02d}Events_CL"
        (copy / "tables" / f"{name}.json").write_text(json.dumps({**template, "name": name}))
        lines.append(f"  loadJsonContent('tables/{name}.json')\n")
    main = copy / "main.bicep"
    anchor = "  loadJsonContent('tables/WallarmEvents_CL.json')\n"
    main.write_text(main.read_text(encoding="utf-8").replace(anchor, anchor + "".join(lines)))
    assert len(list((copy / "tables").glob("*.json"))) == 12
    assert check_infra(copy) == []
    per_rule = variables(DCR)["streamsPerRule"]
    assert (12 + per_rule - 1) // per_rule == 2  # ruleCount, as dcr.bicep computes it
    settings = parse(MAIN)["modules"]["functionApp"]["config"]["params"]["bridgeSettings"]
    assert settings["LOGS_INGESTION_DCR_ROUTES"] == "{${join(dcr.outputs.routeMembers, ',')}}"
    route = parse(DCR)["outputs"]["routeMembers"]["value"]
    assert route["loop_type"]["detail"] == {
        "item_name": "stream",
        "index_name": "i",
        "array_name": "streams",
    }
    rule_id = "${dcrs[i / streamsPerRule].properties.immutableId}"
    assert route["config"] == '"${stream.name}":"' + rule_id + '"'
