"""azd preprovision hook: recover this environment's soft-deleted Key Vault instead of failing.

The vault has purge protection, so after ``azd down`` (with or without ``--purge``) its name
stays reserved by a soft-deleted vault for 90 days, and a plain create of the same name
fails. main.bicep derives the name from the subscription, the resource group and
``namePrefix``, so a deleted vault of this environment is the one whose ``vaultId`` is in the
same resource group and whose name starts with ``kv-<first 7 of the compact prefix>-``. When
there is one, this hook sets ``KEY_VAULT_CREATE_MODE=recover`` in the azd environment
(main.parameters.json passes it as ``keyVaultCreateMode``); otherwise ``default``. It always
sets the value, so a stale ``recover`` never reaches a vault that exists again.

Standard library only: azd runs it with the machine's Python (azure.yaml ``hooks``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

PARAMETERS = Path(__file__).resolve().parents[1] / "main.parameters.json"
SETTING = "KEY_VAULT_CREATE_MODE"
LIST_DELETED = ("az", "keyvault", "list-deleted", "--resource-type", "vault", "--output", "json")

Runner = Callable[[Sequence[str]], str]


def vault_name_start(name_prefix: str) -> str:
    """What main.bicep's vault name starts with: ``kv-`` + 7 of the lower-case prefix + ``-``."""
    compact = name_prefix.replace("-", "").lower()
    return f"kv-{compact[:7]}-"


def create_mode(deleted: Sequence[Mapping[str, Any]], resource_group: str, name_prefix: str) -> str:
    """``recover`` when ``az keyvault list-deleted`` shows this environment's vault; else
    ``default``."""
    start = vault_name_start(name_prefix)
    group = f"/resourcegroups/{resource_group.lower()}/"
    for vault in deleted:
        name = str(vault.get("name", "")).lower()
        vault_id = str(vault.get("properties", {}).get("vaultId", "")).lower()
        if name.startswith(start) and group in vault_id:
            return "recover"
    return "default"


def name_prefix(environ: Mapping[str, str], parameters: Path = PARAMETERS) -> str:
    """``namePrefix`` as main.parameters.json gives it (``${VAR=default}`` read from azd's
    environment)."""
    document = json.loads(parameters.read_text(encoding="utf-8"))
    value = str(document["parameters"].get("namePrefix", {}).get("value", "sbridge"))
    if value.startswith("${") and value.endswith("}"):
        variable, _, default = value[2:-1].partition("=")
        return environ.get(variable, default) or default
    return value


def run(command: Sequence[str]) -> str:
    """Run a CLI command and return its standard output (raises when it fails)."""
    completed = subprocess.run(list(command), capture_output=True, text=True, check=True)  # noqa: S603
    return completed.stdout


def main(environ: Mapping[str, str], runner: Runner = run) -> str:
    """Decide the vault's create mode and store it in the azd environment; return it."""
    resource_group = environ.get("AZURE_RESOURCE_GROUP", "")
    mode = "default"
    if resource_group:
        try:
            listing = runner(LIST_DELETED)
        except (OSError, subprocess.CalledProcessError) as error:
            # No az CLI, or not signed in: create as usual; a reserved name then fails the
            # deployment with Key Vault's own message (docs/deploy.md says what to do).
            print(f"Could not list deleted Key Vaults ({error}); {SETTING}=default")
            listing = "[]"
        mode = create_mode(json.loads(listing or "[]"), resource_group, name_prefix(environ))
    runner(["azd", "env", "set", SETTING, mode])
    print(f"{SETTING}={mode}")  # azd shows the hook's output
    return mode


if __name__ == "__main__":
    main(os.environ)
    # Then the classic tables the migrate mode takes over (migrate_tables.py, beside this).
    import migrate_tables  # a sibling script: importable only when run

    sys.exit(migrate_tables.main(os.environ))
