"""What the tools can check without a Bicep compiler: syntax (pycep-parser) and checkov."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.infra.bicep import INFRA, bicep_files, parse

SKIP_COMMENT = re.compile(r"//\s*checkov:skip=([A-Z0-9_]+)(?::\s*(.*))?$")


@pytest.mark.parametrize("path", bicep_files(), ids=lambda p: str(p.relative_to(INFRA)))
def test_every_bicep_file_parses(path: Path) -> None:
    """Every .bicep file under infra/ parses with pycep-parser."""
    tree = parse(path)
    assert tree.get("resources") or tree.get("modules") or tree.get("outputs")


def test_the_templates_exist() -> None:
    """main.bicep and its modules are all found."""
    names = {str(p.relative_to(INFRA)) for p in bicep_files()}
    assert {"main.bicep", "app/dcr.bicep", "app/function.bicep", "app/workspace.bicep"} <= names


def test_modules_are_local_files() -> None:
    """Every module is a local file that exists: no registry module (br:, ts:) to restore."""
    for path in bicep_files():
        for name, module in parse(path).get("modules", {}).items():
            assert module["type"] == "local", f"{path.name}: module {name} is {module['type']}"
            target = path.parent / module["detail"]["path"]
            assert target.is_file(), f"{path.name}: module {name} -> {target} is missing"


def test_checkov_has_no_parsing_errors(checkov_report: dict[str, Any]) -> None:
    """checkov parsed every file (its exit status would not say so)."""
    assert checkov_report["results"]["parsing_errors"] == []
    assert checkov_report["summary"]["parsing_errors"] == 0


def test_checkov_reports_no_failed_check(checkov_report: dict[str, Any]) -> None:
    """No checkov check fails."""
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']}): {c['check_name']}"
        for c in checkov_report["results"]["failed_checks"]
    ]
    assert failed == []
    assert checkov_report["summary"]["failed"] == 0


def test_checkov_checked_the_hardened_resources(checkov_report: dict[str, Any]) -> None:
    """checkov's checks ran on the storage account, the vault, the plan and the site."""
    results = checkov_report["results"]
    checked = {
        c["resource"].rsplit(".", 1)[0]
        for kind in ("passed_checks", "failed_checks", "skipped_checks")
        for c in results[kind]
    }
    assert {
        "Microsoft.Storage/storageAccounts",
        "Microsoft.KeyVault/vaults",
        "Microsoft.Web/serverfarms",
        "Microsoft.Web/sites",
    } <= checked


def test_every_skipped_check_is_justified(checkov_report: dict[str, Any]) -> None:
    """Each skipped check carries a reason, and each skip comment still skips something."""
    skipped = checkov_report["results"]["skipped_checks"]
    for check in skipped:
        reason = (check["check_result"].get("suppress_comment") or "").strip()
        assert len(reason) > 20, f"{check['check_id']} on {check['resource']} has no reason"
    used = {(Path(c["file_path"]).name, c["check_id"]) for c in skipped}
    for path in bicep_files():
        for line in path.read_text(encoding="utf-8").splitlines():
            match = SKIP_COMMENT.search(line.strip())
            if match:
                assert (path.name, match.group(1)) in used, f"stale skip: {path.name}: {line}"
