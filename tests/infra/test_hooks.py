"""The azd preprovision hook: recover this environment's soft-deleted Key Vault, else create."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.azd_hooks import load_hook
from tests.infra.bicep import INFRA, REPO, one_resource

hook = load_hook("preprovision")

GROUP = "rg-sbridge-dev"


def _deleted(name: str, group: str = GROUP) -> dict[str, object]:
    """One entry of ``az keyvault list-deleted`` as the CLI prints it."""
    vault_id = (
        f"/subscriptions/0000/resourceGroups/{group}/providers/Microsoft.KeyVault/vaults/{name}"
    )
    return {"name": name, "properties": {"vaultId": vault_id, "purgeProtectionEnabled": True}}


def test_vault_name_start_follows_main_bicep() -> None:
    """kv- + the first 7 of the prefix without hyphens, lower case, + -."""
    assert hook.vault_name_start("S-Bridge-Prod") == "kv-sbridge-"
    text = (INFRA / "main.bicep").read_text(encoding="utf-8")
    assert "keyVault: 'kv-${take(compactPrefix, 7)}-${suffix}'" in text
    assert "var compactPrefix = toLower(replace(namePrefix, '-', ''))" in text


@pytest.mark.parametrize(
    ("deleted", "expected"),
    [
        ([], "default"),
        ([_deleted("kv-sbridge-abc123")], "recover"),
        ([_deleted("kv-sbridge-abc123", group="RG-SBRIDGE-DEV")], "recover"),
        ([_deleted("kv-sbridge-abc123", group="rg-other")], "default"),
        ([_deleted("kv-other-abc123")], "default"),
        ([{"name": "kv-sbridge-x"}], "default"),
    ],
)
def test_create_mode(deleted: list[dict[str, object]], expected: str) -> None:
    """Only a deleted vault of this resource group and prefix is recovered."""
    assert hook.create_mode(deleted, GROUP, "sbridge") == expected


def test_name_prefix_reads_the_parameters_file(tmp_path: Path) -> None:
    """A literal, or an azd ${VAR=default} reference resolved from the environment."""
    assert hook.name_prefix({}) == "sbridge"
    parameters = tmp_path / "main.parameters.json"
    parameters.write_text(
        json.dumps({"parameters": {"namePrefix": {"value": "${NAME_PREFIX=sb}"}}}),
        encoding="utf-8",
    )
    assert hook.name_prefix({}, parameters) == "sb"
    assert hook.name_prefix({"NAME_PREFIX": "other"}, parameters) == "other"


class FakeCli:
    """Answers ``az`` with a listing and records every command."""

    def __init__(self, listing: list[dict[str, object]]) -> None:
        self.listing = listing
        self.commands: list[list[str]] = []

    def __call__(self, command: Sequence[str]) -> str:
        self.commands.append(list(command))
        return json.dumps(self.listing) if command[0] == "az" else ""


@pytest.mark.parametrize(
    ("listing", "expected"), [([_deleted("kv-sbridge-abc")], "recover"), ([], "default")]
)
def test_main_always_sets_the_mode(listing: list[dict[str, object]], expected: str) -> None:
    """The hook lists deleted vaults and sets KEY_VAULT_CREATE_MODE either way."""
    cli = FakeCli(listing)
    assert hook.main({"AZURE_RESOURCE_GROUP": GROUP}, cli) == expected
    assert cli.commands[0][:3] == ["az", "keyvault", "list-deleted"]
    assert cli.commands[-1] == ["azd", "env", "set", "KEY_VAULT_CREATE_MODE", expected]


def test_main_without_a_resource_group_creates() -> None:
    """Before azd knows the resource group there is nothing to recover."""
    cli = FakeCli([_deleted("kv-sbridge-abc")])
    assert hook.main({}, cli) == "default"
    assert [c[0] for c in cli.commands] == ["azd"]


def test_the_templates_pass_the_mode_to_the_vault() -> None:
    """azure.yaml runs the hook; the parameters file reads its setting; the vault uses it."""
    assert "run: python3 infra/hooks/preprovision.py" in (REPO / "azure.yaml").read_text("utf-8")
    parameters = json.loads((INFRA / "main.parameters.json").read_text(encoding="utf-8"))
    value = parameters["parameters"]["keyVaultCreateMode"]["value"]
    assert value == "${KEY_VAULT_CREATE_MODE=default}"
    vault = one_resource(INFRA / "app" / "keyvault.bicep", "Microsoft.KeyVault/vaults")
    assert vault.body["properties"]["createMode"] == "createMode"
    assert vault.body["properties"]["enablePurgeProtection"] is True


def test_without_the_az_cli_the_vault_is_created() -> None:
    """A missing or signed-out az CLI does not stop azd: the mode is default."""
    commands: list[list[str]] = []

    def runner(command: Sequence[str]) -> str:
        commands.append(list(command))
        if command[0] == "az":
            raise FileNotFoundError("az")
        return ""

    assert hook.main({"AZURE_RESOURCE_GROUP": GROUP}, runner) == "default"
    assert commands[-1] == ["azd", "env", "set", "KEY_VAULT_CREATE_MODE", "default"]


def test_up_down_up_down_purge_up() -> None:
    """The lifecycle as the hook sees it: create; after azd down, recover; once recovered,
    default again; after azd down --purge (refused by purge protection), recover again."""
    vault = _deleted("kv-sbridge-abc123")
    environment = {"AZURE_RESOURCE_GROUP": GROUP}
    states = [[], [vault], [], [vault]]  # up, down + up, up again, down --purge + up
    modes = [hook.main(environment, FakeCli(listing)) for listing in states]
    assert modes == ["default", "recover", "default", "recover"]
