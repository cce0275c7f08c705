"""Least privilege and no secrets: every role the code needs, at its narrowest scope, and no more.

Role GUIDs are the built-in ones in shared/reference (azure-functions-and-emulation.md
section 7, sentinel-incidents.md section 6), written here once more on purpose: a typo in a
template would otherwise deploy a different role, or fail only in Azure.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest

from shared.config.settings import SETTINGS
from tests.infra.bicep import (
    INFRA,
    MAIN,
    ROLE_ASSIGNMENT,
    Resource,
    accessor_path,
    all_resources,
    bicep_files,
    function_call,
    parse,
    resolve_strings,
    resources,
    variables,
    walk,
)


@dataclass(frozen=True)
class Role:
    """A built-in role, why the app needs it, and the resource type it may be assigned on."""

    name: str
    guid: str
    scopes: frozenset[str]
    needed_for: str


DCR = "Microsoft.Insights/dataCollectionRules"
APP_INSIGHTS = "Microsoft.Insights/components"
VAULT = "Microsoft.KeyVault/vaults"
WORKSPACE = "Microsoft.OperationalInsights/workspaces"
STORAGE = "Microsoft.Storage/storageAccounts"

ROLES = (
    Role(
        "Monitoring Metrics Publisher",
        "3913510d-42f4-4e42-8a64-420c390055eb",
        # The DCR for the Logs Ingestion API; Application Insights because local auth is off
        # there and the host sends telemetry with the identity.
        frozenset({DCR, APP_INSIGHTS}),
        "shared/adapters/ingestion.py (Logs Ingestion API)",
    ),
    Role(
        "Key Vault Secrets User",
        "4633458b-17de-408a-b874-0445c86b69e6",
        frozenset({VAULT}),
        "shared/adapters/keyvault.py (SaaS secrets)",
    ),
    Role(
        "Microsoft Sentinel Responder",
        "3e150937-b8fe-4cfb-8069-0eaf05ecd056",
        frozenset({WORKSPACE}),
        "incident write-back (status, labels, comments)",
    ),
    Role(
        "Microsoft Sentinel Reader",
        "8d289c81-5878-46d4-8554-54e1e3d8b5cb",
        frozenset({WORKSPACE}),
        "incident polling without write-back",
    ),
    Role(
        "Storage Blob Data Owner",
        "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
        frozenset({STORAGE}),
        "host storage, deployment package, dead letters",
    ),
    Role(
        "Storage Queue Data Contributor",
        "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
        frozenset({STORAGE}),
        "retry queue and its poison queue",
    ),
    Role(
        "Storage Table Data Contributor",
        "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
        frozenset({STORAGE}),
        "checkpoints and state tables",
    ),
)
BY_GUID = {role.guid: role for role in ROLES}
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class Assignment:
    """A role assignment as declared: which roles it can grant, on what, named how."""

    resource: Resource
    role_guids: frozenset[str]
    scope_symbol: str
    scope_type: str


def assignments() -> list[Assignment]:
    """Every role assignment in infra/, with its role GUIDs and scope resolved."""
    found = []
    for resource in all_resources():
        if resource.type != ROLE_ASSIGNMENT:
            continue
        body = resource.body
        role_id = function_call(body["properties"]["roleDefinitionId"], "subscription_resource_id")
        assert role_id is not None, f"{resource.symbol}: roleDefinitionId must name a built-in role"
        assert role_id["resource_type"] == "Microsoft.Authorization/roleDefinitions"
        guids = resolve_strings(role_id["resource_name_1"], variables(resource.file))
        # A resource, or an element of a resource loop (dcrs[r]).
        scope_path = accessor_path(body.get("scope"))
        assert len(scope_path) == 1, f"{resource.symbol}: no scope means the resource group"
        [scope] = scope_path
        [scoped] = [r for r in resources(resource.file) if r.symbol == scope]
        found.append(Assignment(resource, frozenset(guids), scope, scoped.type))
    return found


def test_every_role_is_a_known_built_in_role() -> None:
    """Each assignment grants one of the roles above, by its exact GUID."""
    for assignment in assignments():
        assert assignment.role_guids, f"{assignment.resource.symbol}: role not resolvable"
        assert assignment.role_guids <= set(BY_GUID), assignment.role_guids


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.name)
def test_every_role_the_code_needs_is_assigned_at_its_scope(role: Role) -> None:
    """Each needed role is granted, only on the resource types listed for it."""
    granted = [a for a in assignments() if role.guid in a.role_guids]
    assert granted, f"{role.name} is never assigned ({role.needed_for})"
    for assignment in granted:
        assert assignment.scope_type in role.scopes, (
            f"{role.name} on {assignment.scope_type} ({assignment.resource.file.name})"
        )


def test_sentinel_role_follows_write_back() -> None:
    """Responder when anything is written back, Reader otherwise: on this deployment's
    workspace and on each extra incident source's (INCIDENT_SOURCES), one rule for both."""
    workspaces = [a for a in assignments() if a.scope_type == WORKSPACE]
    assert sorted(a.resource.file.name for a in workspaces) == [
        "incident-role.bicep",
        "workspace.bicep",
    ]
    for sentinel in workspaces:
        assert sentinel.role_guids == {
            "3e150937-b8fe-4cfb-8069-0eaf05ecd056",
            "8d289c81-5878-46d4-8554-54e1e3d8b5cb",
        }
        choice = variables(sentinel.resource.file)["sentinelRole"]["operator"]
        assert choice["operands"]["condition"] == "writesBack"
        true_value = choice["operands"]["true_value"]
        assert resolve_strings(true_value, variables(sentinel.resource.file)) == {
            "3e150937-b8fe-4cfb-8069-0eaf05ecd056"
        }
    modules = parse(MAIN)["modules"]
    per_source = modules["incidentRoles"]["config"]["config"]  # a loop: its body
    for params in (modules["workspace"]["config"]["params"], per_source["params"]):
        assert params["writesBack"] == "incidentWritesBack"
    rule = json.dumps(variables(MAIN)["incidentWritesBack"])
    for writer in ("signl4Tag", "signl4Callback", "webhookTags", "webhookDestinations", "elastic"):
        assert writer in rule, writer  # reader-only: no tag, no callback, no case write-back


def test_assignments_are_named_by_guid_of_scope_principal_and_role() -> None:
    """name: guid(<scope>.id, principalId, <role>): stable, unique per scope and role."""
    for assignment in assignments():
        body = assignment.resource.body
        name = function_call(body["name"], "guid")
        assert name is not None, f"{assignment.resource.symbol}: name is not guid(...)"
        assert accessor_path(name["base_string"]) == [assignment.scope_symbol, "id"]
        role_id = function_call(body["properties"]["roleDefinitionId"], "subscription_resource_id")
        assert role_id is not None
        assert name["extra_string_2"] == role_id["resource_name_1"]
        assert name["extra_string_1"] == body["properties"]["principalId"]
        assert body["properties"]["principalType"] == "ServicePrincipal"


def test_each_role_guid_is_commented_with_its_role_name() -> None:
    """A reader sees the role's name beside its GUID in every file that uses it."""
    for path in bicep_files():
        text = path.read_text(encoding="utf-8")
        for guid in set(GUID.findall(text)):
            role = BY_GUID.get(guid)
            assert role is not None, f"{path.name}: unknown GUID {guid}"
            assert any(guid in line and role.name in line for line in text.splitlines()), (
                f"{path.name}: {guid} is not commented as {role.name}"
            )


def test_nothing_is_deployed_at_subscription_scope() -> None:
    """Every file targets a resource group; no subscription() or tenant() scope is used."""
    for path in bicep_files():
        tree = parse(path)
        assert tree.get("globals", {}).get("scope", {}).get("value", "resourceGroup") == (
            "resourceGroup"
        )
        for section in ("resources", "modules"):
            for name, declaration in tree.get(section, {}).items():
                scope = declaration["config"].get("scope")
                if isinstance(scope, dict):  # a scope function, not a resource symbol
                    call = function_call(scope, "resource_group")
                    assert call is not None, f"{path.name}:{name} is scoped above a resource group"
                    assert call["subscription_id"] is None, (
                        f"{path.name}:{name}: other subscription"
                    )


# The settings that name a Key Vault secret -> the key in main.bicep's secretNames.
SECRET_SETTINGS = {
    "FIG_SECRET_HASH_NAME": "fig",
    "WALLARM_TOKEN_NAME": "wallarm",
    "ELASTIC_AUTH_NAME": "elastic",
    "SIGNL4_TEAM_SECRET_NAME": "signl4Team",
    "SIGNL4_CALLBACK_TOKEN_NAME": "signl4Callback",
}
SECRETISH = re.compile(r"(secret|password|passwd|key|token|credential|connectionstring)s?$", re.I)


def test_no_secret_in_parameters() -> None:
    """No @secure() parameter, no parameter named like a secret, none in main.parameters.json."""
    for path in bicep_files():
        for name, parameter in parse(path).get("parameters", {}).items():
            kinds = {d.get("type") for d in parameter.get("decorators", [])}
            assert "secure" not in kinds, f"{path.name}: {name} takes a secret"
            assert not SECRETISH.search(name), f"{path.name}: {name} looks like a secret"
    document = json.loads((INFRA / "main.parameters.json").read_text(encoding="utf-8"))
    declared = set(parse(MAIN)["parameters"])
    for name in document["parameters"]:
        assert name in declared, f"main.parameters.json sets unknown parameter {name}"
        assert not SECRETISH.search(name), name


def test_no_secret_in_outputs() -> None:
    """Outputs carry names and URLs only: no keys, connection strings or list*() results."""
    for path in bicep_files():
        for name, output in parse(path).get("outputs", {}).items():
            assert not SECRETISH.search(name), f"{path.name}: output {name}"
            text = json.dumps(output["value"]).lower()
            for marker in ("list", "connectionstring", "instrumentationkey", "secret"):
                assert marker not in text.replace("secretnamestofill", ""), (
                    f"{path.name}: output {name} reads {marker}"
                )


def test_keyless_no_secret_values_anywhere() -> None:
    """No listKeys()/listSecrets(), no Key Vault secret resources, no account keys in settings."""
    for path in bicep_files():
        code = path.read_text(encoding="utf-8")
        assert not re.search(r"\blist[A-Z]\w*\(", code), f"{path.name} calls a list*() function"
        assert "AccountKey=" not in code
        for node in walk(parse(path).get("resources", {})):
            if isinstance(node, dict) and isinstance(node.get("type"), str):
                assert not node["type"].startswith("Microsoft.KeyVault/vaults/"), path.name


def test_the_secret_names_to_fill_are_the_ones_the_code_reads() -> None:
    """main.bicep's secret names match the settings' defaults and the documented names."""
    names = variables(MAIN)["secretNames"]
    assert names == {
        "fig": "fig-secret-hash",
        "wallarm": "wallarm-token",
        "elastic": "elastic-webhook-auth",
        "signl4Team": "signl4-team-secret",
        "signl4Callback": "signl4-callback-token",
    }
    defaults = {s.name: s.default for s in SETTINGS}
    settings = parse(MAIN)["modules"]["functionApp"]["config"]["params"]["bridgeSettings"]
    for setting, key in SECRET_SETTINGS.items():
        assert accessor_path(settings[setting]) == ["secretNames", key]
        if setting in defaults:  # the code's default agrees with what the Bicep sets
            assert defaults[setting] == names[key], setting
    outputs = parse(MAIN)["outputs"]
    assert outputs["SECRET_NAMES_TO_FILL"]["value"] == "secretNamesToFill"
    assert outputs["KEY_VAULT_NAME"]["type"] == "string"
