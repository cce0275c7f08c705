"""Table modes: stream.bicep builds the texts local/legacy.py builds, from the same files.

Bicep cannot be run here, so these tests read the interpolations stream.bicep writes and
expand them in Python with the legacy files' values, and compare the result with
local/legacy.py (which the emulators and the KQL checker use).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from local import legacy
from tests.infra.bicep import INFRA, MAIN, REPO, TABLES_DIR, module_path, parse, variables

STREAM = module_path("stream")
LEGACY_FILES = sorted((TABLES_DIR / "legacy").glob("*.json"))
_INTERPOLATION = re.compile(r"\$\{([^}]+)\}")


def _expand(template: str, values: dict[str, str]) -> str:
    """A Bicep string's ``${name}`` parts replaced by ``values``."""
    return _INTERPOLATION.sub(lambda m: values[m.group(1).strip()], template)


def _bicep_texts(table: str, mode: str, classic: str) -> dict[str, Any]:
    """What stream.bicep outputs for a table in a mode, evaluated by hand from its text."""
    spec = json.loads((TABLES_DIR / "legacy" / f"{table}.json").read_text(encoding="utf-8"))
    stream_vars = variables(STREAM)
    base = table.removesuffix("_CL")
    assert stream_vars["legacyAssignments"]["config"] == "${column.name} = ${column.from}"
    assignments = ", ".join(f"{c['name']} = {c['from']}" for c in spec["columns"])
    names = ", ".join(c["name"] for c in spec["columns"])
    values = {
        "join(legacyAssignments, ', ')": assignments,
        "join(legacyNames, ', ')": names,
        "baseName": base,
    }
    values["legacyExtend"] = _expand(stream_vars["legacyExtend"], values)
    values["legacyProject"] = _expand(stream_vars["legacyProject"], values)
    destination = table
    if mode == "migrate":
        destination = classic
    elif mode == "alongside" and classic == table:
        destination = f"{base}Bridge_CL"
    values |= {"classic": classic, "destination": destination}
    text = STREAM.read_text(encoding="utf-8")
    transform = re.search(r"transformKql: mode == 'migrate' \? '([^']*)' : 'source'", text)
    union = re.search(r"body: '(union isfuzzy=true \$\{classic\}[^']*)'", text)
    per_type = re.search(r"body: '(union isfuzzy=true \$\{perType\}[^']*)'", text)
    assert transform is not None
    assert union is not None
    assert per_type is not None
    per_type_template = per_type.group(1).replace("${perTypeKinds[i]}", "${kind}")
    return {
        "destination": destination,
        "transform": _expand(transform.group(1), values) if mode == "migrate" else "source",
        "union": _expand(union.group(1), values),
        "per_type": {
            t.removesuffix("_CL"): _expand(
                per_type_template, {**values, "perType": t, "kind": t.removesuffix("_CL")}
            )
            for t in spec["perTypeTables"]
        },
    }


@pytest.mark.parametrize("path", LEGACY_FILES, ids=lambda p: p.name)
@pytest.mark.parametrize("mode", legacy.MODES)
def test_bicep_and_python_build_the_same_kql(path: Any, mode: legacy.Mode) -> None:
    """Destination, transformation, union function and per-type functions agree."""
    table = path.stem
    spec = legacy.load_legacy(table)
    for classic in (table, "MyOwn_CL"):
        bicep = _bicep_texts(table, mode, classic)
        destination = legacy.destination(table, mode, classic)
        assert bicep["destination"] == destination
        assert bicep["transform"] == legacy.transform_kql(spec if mode == "migrate" else None)
        assert bicep["union"] == legacy.union_function(spec, classic, destination)
        assert bicep["per_type"] == legacy.per_type_functions(spec, destination)


@pytest.mark.parametrize("path", LEGACY_FILES, ids=lambda p: p.name)
def test_legacy_files_follow_the_data_collector_naming(path: Any) -> None:
    """Each legacy column has the suffix of its type (string _s, boolean _b, real _d,
    datetime _t), a description and a filling expression; its typed table exists."""
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["name"] == path.stem
    assert (TABLES_DIR / path.name).is_file()
    suffixes = {"string": ("_s", "_g"), "boolean": ("_b",), "real": ("_d",), "datetime": ("_t",)}
    for column in [*document["columns"], *document["connectorOnlyColumns"]]:
        assert column["name"].endswith(suffixes[column["type"]]), column
        assert column["description"]
    assert all(column["from"] for column in document["columns"])


def test_the_transformation_is_an_extend_of_source_only() -> None:
    """Within what Azure Monitor transformations support: one extend over source, no
    joins, unions or aggregations, and the row's own TimeGenerated kept."""
    for path in LEGACY_FILES:
        transform = legacy.transform_kql(legacy.load_legacy(path.stem))
        assert transform.startswith("source | extend ")
        assert transform.count("|") == 1
        for forbidden in ("union", "join", "summarize", "TimeGenerated =", "now("):
            assert forbidden not in transform


def test_main_gives_each_legacy_source_its_mode_and_file() -> None:
    """main.bicep: the modes and the classic table name reach the stream modules; every
    legacy file is loaded."""
    main_vars = variables(MAIN)
    loaded = main_vars["legacySchemas"]
    assert set(loaded) == {p.stem for p in LEGACY_FILES}
    modes = main_vars["tableModes"]
    assert modes["FigEvents_CL"]["mode"] == "figTableMode"
    assert modes["WallarmEvents_CL"]["mode"] == "wallarmTableMode"
    assert modes["WallarmEvents_CL"]["classicTable"] == "wallarmClassicTable"
    assert modes["WallarmEvents_CL"]["perTypeFunctions"] == "wallarmPerTypeFunctions"
    parameters = parse(MAIN)["parameters"]
    for name in ("figTableMode", "wallarmTableMode"):
        allowed = next(d for d in parameters[name]["decorators"] if d["type"] == "allowed")
        assert allowed["argument"] == list(legacy.MODES)


def test_azd_runs_the_migration_with_the_same_parameters() -> None:
    """The preprovision hook runs migrate_tables.py; the parameters file reads the modes from
    azd's environment under the names the hook resolves."""
    hook = (INFRA / "hooks" / "preprovision.py").read_text(encoding="utf-8")
    assert "migrate_tables.main(os.environ)" in hook
    assert "run: python3 infra/hooks/preprovision.py" in (REPO / "azure.yaml").read_text("utf-8")
    parameters = json.loads((INFRA / "main.parameters.json").read_text(encoding="utf-8"))
    values = {name: p["value"] for name, p in parameters["parameters"].items()}
    assert values["figTableMode"] == "${FIG_TABLE_MODE=new}"
    assert values["wallarmTableMode"] == "${WALLARM_TABLE_MODE=new}"
    assert values["wallarmClassicTable"] == "${WALLARM_CLASSIC_TABLE=WallarmEvents_CL}"


def test_the_hook_compares_columns_by_name_type_and_suffix() -> None:
    """The connector's table passes (standard columns aside); a retyped column, a legacy
    column under another suffix, an undeclared column or none of the legacy columns do not."""
    from tests.emulators.legacy_support import hook

    legacy_columns, typed = hook.expected_columns("FigEvents_CL")
    connector = dict(legacy_columns) | {"TimeGenerated": "datetime", "TenantId": "guid"}
    assert hook.differences(connector, legacy_columns, typed) == []
    assert hook.differences({**connector, "Severity": "long"}, legacy_columns, typed) == [
        "column Severity is long, expected string"
    ]
    renamed = {k: v for k, v in connector.items() if k != "success_b"} | {"success_s": "string"}
    assert "column success_b is missing but success_s exists" in hook.differences(
        renamed, legacy_columns, typed
    )
    assert (
        "extra_s" in hook.differences({**connector, "extra_s": "string"}, legacy_columns, typed)[0]
    )
    assert (
        "none of the connector's columns"
        in hook.differences({"TimeGenerated": "datetime"}, legacy_columns, typed)[0]
    )


def test_the_hook_needs_no_arm_without_an_existing_workspace() -> None:
    """A new workspace has no classic table; new mode migrates nothing."""
    from tests.emulators.legacy_support import hook

    class NoArm:
        def call(self, *args: object) -> tuple[int, object]:
            raise AssertionError("no ARM call expected")

    environment = {"AZURE_SUBSCRIPTION_ID": "s", "AZURE_RESOURCE_GROUP": "rg"}
    assert hook.run({**environment, "FIG_TABLE_MODE": "migrate"}, NoArm()) == [
        "a new workspace has no classic table to migrate"
    ]
    assert hook.run(environment, NoArm()) == []
