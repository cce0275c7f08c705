"""main.bicep's parameters: decorators and cross-checks, run over main.parameters.json variants;
the regions, written once in @allowed, checked against a vendored list with source and date."""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.infra.bicep import INFRA, MAIN, function_call, parse, variables

REGIONS = Path(__file__).resolve().parent / "regions" / "flex-consumption.json"
PARAMETERS_FILE = INFRA / "main.parameters.json"


def declared() -> dict[str, Any]:
    """main.bicep's parameters as pycep parses them."""
    parameters: dict[str, Any] = parse(MAIN)["parameters"]
    return parameters


def decorator(name: str, kind: str) -> Any:
    """The argument of one decorator of parameter ``name``; None when it has none."""
    for found in declared()[name]["decorators"]:
        if found["type"] == kind:
            return found["argument"]
    return None


def evaluate(expression: Any, values: dict[str, Any]) -> Any:
    """The few Bicep expressions the cross-checks use, over parameter values."""
    if isinstance(expression, str):
        if expression in values:
            return values[expression]
        checks = variables(MAIN)
        return evaluate(checks[expression], values) if expression in checks else expression
    if isinstance(expression, list):
        return [evaluate(item, values) for item in expression]
    if not isinstance(expression, dict):
        return expression
    if "function" in expression:
        function = expression["function"]
        args = [evaluate(a, values) for a in function["parameters"].values()]
        return _call(function["type"], args)
    node = expression["operator"]
    operands = node["operands"]
    if node["type"] == "conditional":
        branch = "true_value" if evaluate(operands["condition"], values) else "false_value"
        return evaluate(operands[branch], values)
    left = evaluate(operands["operand_1"], values)
    right = evaluate(operands["operand_2"], values)
    return BINARY[node["type"]](left, right)


BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "less_than": operator.lt,
    "greater_than": operator.gt,
    "and": lambda left, right: left and right,
    "or": lambda left, right: left or right,
}


def _call(name: str, args: list[Any]) -> Any:
    if name == "concat":
        return [item for arg in args for item in arg]
    if name in ("empty", "length"):
        return len(args[0]) == 0 if name == "empty" else len(args[0])
    if name == "starts_with":
        return args[0].startswith(args[1])
    assert name == "ends_with", name
    return args[0].endswith(args[1])


BOUNDS: dict[str, Callable[[Any, Any], bool]] = {
    "min_value": lambda value, bound: value >= bound,
    "max_value": lambda value, bound: value <= bound,
    "min_length": lambda value, bound: len(value) >= bound,
    "max_length": lambda value, bound: len(value) <= bound,
}


def parameter_values(overrides: dict[str, Any]) -> dict[str, Any]:
    """Defaults, then main.parameters.json (azd's ${VAR=default} as its default), then
    ``overrides``; location as azd or the resource group would give it."""
    values: dict[str, Any] = {"location": "westeurope"}
    for name, parameter in declared().items():
        default = parameter.get("default")
        if default is not None and not isinstance(default, dict):
            values[name] = values.get(default, default) if isinstance(default, str) else default
    document = json.loads(PARAMETERS_FILE.read_text(encoding="utf-8"))
    for name, entry in document["parameters"].items():
        value = entry["value"]
        if isinstance(value, str) and value.startswith("${"):
            value = value[2:-1].partition("=")[2]
        values[name] = value
    return {**values, **overrides}


def problems(overrides: dict[str, Any]) -> list[str]:
    """What a deployment with these parameters would reject before creating anything."""
    values = parameter_values(overrides)
    found = []
    for name in declared():
        value = values.get(name)
        allowed = decorator(name, "allowed")
        items = value if isinstance(value, list) else [value]
        if allowed is not None and any(item not in allowed for item in items):
            found.append(f"{name}: not @allowed")
        for kind, within in BOUNDS.items():
            bound = decorator(name, kind)
            if bound is not None and not within(value, bound):
                found.append(f"{name}: {kind} {bound}")
    checks = variables(MAIN)["parameterProblems"]
    found += evaluate(checks, values)
    return found


def test_the_parameters_file_deploys() -> None:
    """main.parameters.json as azd fills it passes every decorator and check."""
    assert problems({}) == []


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"retentionInDays": 90, "totalRetentionInDays": 60}, "totalRetentionInDays must be"),
        ({"existingWorkspaceResourceGroup": "rg-logs"}, "needs existingWorkspaceName"),
        ({"namePrefix": "-sbridge"}, "namePrefix must not start or end with a hyphen"),
        ({"namePrefix": "s"}, "namePrefix: min_length 2"),
        ({"retentionInDays": 7}, "retentionInDays: min_value 30"),
        ({"totalRetentionInDays": 5000}, "totalRetentionInDays: max_value 4383"),
        ({"location": "westindia"}, "location: not @allowed"),
        ({"sources": ["fig", "splunk"]}, "sources: not @allowed"),
        ({"keyVaultCreateMode": "purge"}, "keyVaultCreateMode: not @allowed"),
        ({"figTableMode": "replace"}, "figTableMode: not @allowed"),
        ({"wallarmTableMode": "Migrate"}, "wallarmTableMode: not @allowed"),
        ({"wallarmClassicTable": "WallarmEvents"}, "wallarmClassicTable must be a custom table"),
        ({"wallarmClassicTable": "_CL"}, "wallarmClassicTable must be a custom table"),
    ],
)
def test_a_bad_variant_is_refused(overrides: dict[str, Any], expected: str) -> None:
    """Each variant fails with a message naming the parameter."""
    assert any(expected in problem for problem in problems(overrides)), problems(overrides)


def test_good_variants_pass() -> None:
    """An existing workspace, longer retention, another region: no problem."""
    assert problems({"existingWorkspaceName": "law", "existingWorkspaceResourceGroup": "rg"}) == []
    assert problems({"retentionInDays": 30, "totalRetentionInDays": 4383}) == []
    assert problems({"location": "swedencentral", "destinations": ["signl4"]}) == []
    modes = {"figTableMode": "migrate", "wallarmTableMode": "alongside"}
    assert problems({**modes, "wallarmClassicTable": "MyWallarm_CL"}) == []


def test_a_problem_fails_validation_before_the_first_resource() -> None:
    """parametersChecked turns problems into a failing int(); the identity's tags read it."""
    checked = variables(MAIN)["parametersChecked"]["operator"]["operands"]
    assert function_call(checked["condition"], "empty") == {"item_to_test": "parameterProblems"}
    converted = function_call(checked["false_value"], "bool")
    assert converted is not None
    assert function_call(converted["arg_1"], "int") is not None
    identity = parse(MAIN)["resources"]["identity"]["config"]
    assert identity["tags"]["operator"]["operands"]["condition"] == "parametersChecked"


def test_regions_are_written_once_and_offered_by_flex_consumption() -> None:
    """location's @allowed is a subset of the vendored list (source, commit, date); azd
    prompts from it; no early-access (EUAP) region."""
    vendored = json.loads(REGIONS.read_text(encoding="utf-8"))
    assert vendored["source"].startswith("https://github.com/")
    assert vendored["sourceDate"]
    assert vendored["sourceCommit"] in vendored["source"]
    allowed = decorator("location", "allowed")
    assert allowed
    assert set(allowed) <= set(vendored["regions"])
    assert not [region for region in allowed if region.endswith("euap")]
    assert decorator("location", "metadata") == {"azd": {"type": "location"}}
    text = MAIN.read_text(encoding="utf-8")
    assert text.count("'swedencentral'") == 1  # the list is written once
