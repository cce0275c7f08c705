"""CI type-checks the Bicep as the compiler would, against the vendored bicep-types-az types."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.infra import azure_types as az
from tests.infra.bicep import INFRA
from tests.infra.typecheck import check_infra

README = az.TYPES_DIR / "README.md"

# Resources other issues add (Sentinel content): vendored ahead so they type-check too.
ANNOUNCED = [
    ("Microsoft.SecurityInsights/alertRules", "2024-09-01"),
    ("Microsoft.OperationalInsights/workspaces/savedSearches", "2020-08-01"),
    ("Microsoft.Insights/workbooks", "2023-06-01"),
]


def test_the_whole_infra_type_checks() -> None:
    """Every resource, module, read and table schema under infra/ passes."""
    assert check_infra(INFRA) == []


@pytest.mark.parametrize(("type_name", "version"), ANNOUNCED)
def test_announced_content_types_are_vendored(type_name: str, version: str) -> None:
    """The Sentinel content resources later issues add are known at their API versions."""
    assert az.resource_body(type_name, version) is not None


def test_every_vendored_file_is_listed_with_its_commit() -> None:
    """tests/infra/types/README.md names the upstream commit and every file, and the licence."""
    text = README.read_text(encoding="utf-8")
    assert re.search(r"\b[0-9a-f]{40}\b", text)
    assert (az.TYPES_DIR / "LICENSE").read_text(encoding="utf-8").strip().startswith("MIT")
    for path in az.vendored_files():
        assert str(path.relative_to(az.TYPES_DIR)) in text, path


def _planted(tmp_path: Path, relative: str, old: str, new: str) -> list[str]:
    """The problems of a copy of infra/ with ``old`` replaced by ``new`` in one file."""
    copy = tmp_path / "infra"
    shutil.copytree(INFRA, copy)
    target = copy / relative
    text = target.read_text(encoding="utf-8")
    assert old in text, old
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    return check_infra(copy)


PLANTED = [
    pytest.param(
        "app/keyvault.bicep",
        "enablePurgeProtection: true",
        "enablePurgeProtektion: true",
        "vault.properties.enablePurgeProtektion: no such property",
        id="wrong-property-name",
    ),
    pytest.param(
        "app/storage.bicep",
        "deleteRetentionPolicy: {\n      enabled: true",
        "deleteRetentionPolicy: {\n      enabeld: true",
        "deleteRetentionPolicy.enabeld: no such property",
        id="wrong-nested-property-name",
    ),
    pytest.param(
        "app/function.bicep",
        "Microsoft.Web/serverfarms@2024-04-01",
        "Microsoft.Web/serverfarms@2099-01-01",
        "Microsoft.Web/serverfarms@2099-01-01 is not in the vendored Bicep types",
        id="unknown-api-version",
    ),
    pytest.param(
        "app/keyvault.bicep",
        "name: 'standard'",
        "name: 'basic'",
        "'basic' is not one of ['premium', 'standard']",
        id="enum",
    ),
    pytest.param(
        "app/function.bicep",
        "name: 'appsettings'",
        "name: 'appsetings'",
        "appSettings.name: 'appsetings' is not one of ['appsettings', 'authsettings'",
        id="discriminator",
    ),
    pytest.param(
        "app/function.bicep",
        "http20Enabled: true",
        "http20Enabled: true\n      machineKey: {}",
        "siteConfig.machineKey: read-only",
        id="read-only",
    ),
    pytest.param(
        "app/keyvault.bicep",
        "tenantId: tenant().tenantId",
        "",
        "required property 'tenantId' is missing",
        id="required",
    ),
    pytest.param(
        "app/function.bicep",
        "primaryEndpoints.blob}",
        "primaryEndpoints.blobs}",
        "'blobs' is not a property",
        id="read-through-unknown-property",
    ),
    pytest.param(
        "main.bicep",
        "outputs.workspaceId",
        "outputs.workspaceGuid",
        "the module declares outputs",
        id="module-output",
    ),
    pytest.param(
        "main.bicep",
        "    alertActionGroupId: alertActionGroupId\n",
        "    alertActionGroupId: alertActionGroupId\n    alertGroup: ''\n",
        "module dcr.params.alertGroup: dcr.bicep declares no such parameter",
        id="module-parameter",
    ),
    pytest.param(
        "main.bicep",
        "    retentionInDays: retentionInDays\n",
        "    retentionInDays: '90'\n",
        "module workspace.params.retentionInDays: workspace.bicep declares int, given string",
        id="module-parameter-type",
    ),
    pytest.param(
        "main.bicep",
        "    alertActionGroupId: alertActionGroupId\n",
        "",
        "required parameter 'alertActionGroupId' of dcr.bicep is not passed",
        id="module-required-parameter",
    ),
    pytest.param(
        "tables/FigEvents_CL.json",
        '"columns"',
        '"colums"',
        "FigEvents_CL.json: schema.colums: no such property",
        id="table-schema",
    ),
]


@pytest.mark.parametrize(("relative", "old", "new", "expected"), PLANTED)
def test_a_planted_mistake_fails(
    tmp_path: Path, relative: str, old: str, new: str, expected: str
) -> None:
    """Each kind of mistake the compiler would reject is reported, and says where."""
    problems = _planted(tmp_path, relative, old, new)
    assert any(expected in problem for problem in problems), problems


def test_an_unknown_api_version_says_how_to_vendor_it(tmp_path: Path) -> None:
    """The message names the upstream repository and where the file goes."""
    [problem] = _planted(
        tmp_path,
        "app/keyvault.bicep",
        "Microsoft.KeyVault/vaults@2023-07-01",
        "Microsoft.KeyVault/vaults@2031-01-01",
    )
    assert "github.com/Azure/bicep-types-az" in problem
    assert "tests/infra/types/generated/" in problem
    assert "vendored versions: 2023-07-01" in problem
