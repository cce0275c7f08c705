"""The Sentinel content in content/ is what infra/app/content.bicep deploys, and deployable.

The Bicep reads every content file itself (loadYamlContent / loadJsonContent), so nothing is
copied by hand; these tests check that every file is listed there exactly once, and that the
YAML only uses what the module translates to the ARM API.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.content.texts import HUNTING, PARSERS, RULES, WORKBOOKS, load_yaml, parameter_list
from tests.infra.bicep import (
    MAIN,
    REPO,
    accessor_path,
    function_call,
    module_path,
    parse,
    resources,
)

CONTENT_BICEP = module_path("content")
SOURCES = ("fig", "wallarm", "elastic", "bridge")
CONNECTORS = {
    "SentinelBridgeFig": "fig",
    "SentinelBridgeWallarm": "wallarm",
    "SentinelBridgeElastic": "elastic",
    "SentinelBridgeHealth": "bridge",
}
API_VERSIONS = {
    # NRT rules: only preview versions declare the NRT kind (tests/infra/types/README.md).
    "Microsoft.SecurityInsights/alertRules": {"2024-09-01", "2025-04-01-preview"},
    "Microsoft.OperationalInsights/workspaces/savedSearches": {"2020-08-01"},
    "Microsoft.Insights/workbooks": {"2023-06-01"},
}
TACTICS = {
    "Reconnaissance", "ResourceDevelopment", "InitialAccess", "Execution", "Persistence",
    "PrivilegeEscalation", "DefenseEvasion", "CredentialAccess", "Discovery", "LateralMovement",
    "Collection", "CommandAndControl", "Exfiltration", "Impact",
}  # fmt: skip
_LOADED = re.compile(r"\{ source: '(\w+)', \w+: load(?:Yaml|Json)Content\('\.\./\.\./([^']+)'\) \}")
_DURATION = re.compile(r"^\d+[mh]$")


def _listed() -> dict[str, str]:
    """content/ path -> source switch, as content.bicep lists them."""
    text = CONTENT_BICEP.read_text(encoding="utf-8")
    pairs = _LOADED.findall(text)
    listed = {path: source for source, path in pairs}
    assert len(listed) == len(pairs), "a content file is listed twice"
    return listed


def _rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def _rules() -> list[Path]:
    return sorted(RULES.glob("*.yaml"))


def test_every_content_file_is_deployed_once() -> None:
    """Each rule, hunting query and parser file is loaded by content.bicep, and the workbook."""
    yaml_files = [*_rules(), *sorted(HUNTING.glob("*.yaml")), *sorted(PARSERS.glob("*.yaml"))]
    assert set(_listed()) == {_rel(p) for p in yaml_files}
    text = CONTENT_BICEP.read_text(encoding="utf-8")
    for workbook in sorted(WORKBOOKS.glob("*.json")):
        assert f"loadJsonContent('../../{_rel(workbook)}')" in text


def test_each_item_is_switched_by_its_own_source() -> None:
    """The switch an item hangs on is the source of the table its connector names."""
    for path, source in _listed().items():
        document = load_yaml(REPO / path)
        if "requiredDataConnectors" in document:
            connectors = {c["connectorId"] for c in document["requiredDataConnectors"]}
        else:  # a parser: by its product
            connectors = {f"SentinelBridge{document['Product']['Name']}"}
        assert {CONNECTORS[c] for c in connectors} == {source}, path


@pytest.mark.parametrize("path", _rules(), ids=lambda p: p.stem)
def test_rule_uses_only_what_the_module_translates(path: Path) -> None:
    """Azure-Sentinel fields, durations in m/h, a known operator, tactics and severity."""
    rule: dict[str, Any] = load_yaml(path)
    for key in ("id", "name", "description", "severity", "requiredDataConnectors", "tactics",
                "relevantTechniques", "query", "customDetails", "alertDetailsOverride",
                "eventGroupingSettings", "version", "kind"):  # fmt: skip
        assert key in rule, f"{path.name}: no {key}"
    assert str(uuid.UUID(rule["id"])) == rule["id"]
    assert rule["severity"] in {"Informational", "Low", "Medium", "High"}
    assert set(rule["tactics"]) <= TACTICS
    assert all(re.fullmatch(r"T\d{4}", t) for t in rule["relevantTechniques"])
    assert rule["kind"] in {"Scheduled", "NRT"}
    if rule["kind"] == "Scheduled":
        assert _DURATION.match(rule["queryFrequency"]), rule["queryFrequency"]
        assert _DURATION.match(rule["queryPeriod"]), rule["queryPeriod"]
        assert rule["triggerOperator"] in {"gt", "lt", "eq", "ne"}
        assert isinstance(rule["triggerThreshold"], int)
    else:
        assert "queryFrequency" not in rule
        assert "queryPeriod" not in rule
    for text in rule["alertDetailsOverride"].values():
        assert len(re.findall(r"\{\{\w+\}\}", text)) <= 3, f"{path.name}: Sentinel takes 3"
    columns = set(re.findall(r"\{\{(\w+)\}\}", json.dumps(rule["alertDetailsOverride"])))
    columns |= set(rule["customDetails"].values())
    columns |= {m["columnName"] for e in rule.get("entityMappings", []) for m in e["fieldMappings"]}
    severity_column = rule["alertDetailsOverride"].get("alertSeverityColumnName")
    for column in columns | ({severity_column} if severity_column else set()):
        assert re.search(rf"\b{column}\b", rule["query"]), f"{path.name}: {column} not in query"


def test_rule_ids_are_unique() -> None:
    """Rule names in Sentinel are the ids: two files must not share one."""
    ids = [load_yaml(p)["id"] for p in [*_rules(), *sorted(HUNTING.glob("*.yaml"))]]
    assert len(ids) == len(set(ids))


def test_parsers_declare_their_parameters_as_kql() -> None:
    """Each parser's parameter list is valid 'name:type=default' text the Bicep joins."""
    for path in sorted(PARSERS.glob("*.yaml")):
        parser = load_yaml(path)
        assert parser["ParserName"] == path.stem
        assert parser["ParserParams"][-1]["Name"] == "disabled"
        assert re.fullmatch(r"(\w+:\w+=[^,]+)(, \w+:\w+=[^,]+)*", parameter_list(parser))


def test_api_versions_are_the_vendored_ones() -> None:
    """The resource types use exactly the API versions whose type definitions are vendored."""
    text = CONTENT_BICEP.read_text(encoding="utf-8")
    declared = re.findall(r"^resource \w+ '([^@']+)@([^']+)'", text, flags=re.MULTILINE)
    for resource_type, version in declared:
        if resource_type in API_VERSIONS:
            assert version in API_VERSIONS[resource_type], resource_type
    assert {t for t, _ in declared} >= set(API_VERSIONS)


def test_names_are_fixed_or_guid() -> None:
    """Deploying twice changes nothing: rule and query names are ids, parsers their names."""
    found = {r.symbol: r for r in resources(CONTENT_BICEP)}
    assert accessor_path(found["scheduled"].body["name"]) == ["rule", "id"]
    assert accessor_path(found["nrt"].body["name"]) == ["rule", "id"]
    assert accessor_path(found["hunting"].body["name"]) == ["query", "id"]
    assert accessor_path(found["filtering"].body["name"]) == ["item", "parser", "ParserName"]
    assert accessor_path(found["unifying"].body["name"]) == ["item", "parser", "ParserName"]
    assert function_call(found["workbook"].body["name"], "guid") is not None


def test_main_deploys_the_content_with_a_switch_per_source() -> None:
    """main.bicep calls the module once, passing contentSources (one value per source)."""
    tree = parse(MAIN)
    parameter = tree["parameters"]["contentSources"]
    assert parameter["default"] == list(SOURCES)
    allowed = [d["argument"] for d in parameter["decorators"] if d["type"] == "allowed"]
    assert allowed == [list(SOURCES)]
    module = tree["modules"]["content"]
    assert module["detail"]["path"] == "app/content.bicep"
    params = module["config"]["params"]
    # Less a source whose typed table name belongs to a classic table (alongside mode).
    assert params["contentSources"] == "deployedContentSources"
    text = MAIN.read_text(encoding="utf-8")
    assert (
        "var deployedContentSources = intersection(contentSources, contentSourcesReadable)" in text
    )
