"""azd preprovision hook: migrate the classic tables the ``migrate`` mode takes over.

For each source whose table mode is ``migrate`` (the parameters ``figTableMode`` and
``wallarmTableMode`` as main.parameters.json resolves them from azd's environment:
``FIG_TABLE_MODE``, ``WALLARM_TABLE_MODE``, ``WALLARM_CLASSIC_TABLE``), this reads the
existing table (``Microsoft.OperationalInsights/workspaces/tables/{t}``) with the deploying
user's token and:

- no such table: nothing to migrate; the deployment creates it with typed and legacy columns;
- a ``Classic`` table whose columns are the connector's: ``POST .../tables/{t}/migrate``
  (Log Analytics Contributor has ``tables/migrate/action``), after which the deployment's
  PUT adds the typed columns and the DCR writes both;
- already ``DataCollectionRuleBased`` (a re-run, or migrated by hand): nothing to do;
- columns that differ from what the connector wrote (same name, other type; a legacy column
  only under another suffix; none of them at all): refuses with what differs, before
  anything changes.

Bicep cannot call an action, hence a hook. Standard library only: azd runs it with the
machine's Python. The HTTP calls go through :class:`Arm`, so tests run the same logic
against the ARM emulator (tests/emulators/test_legacy_migration.py).
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INFRA = Path(__file__).resolve().parents[1]
TABLES = INFRA / "tables"
API_VERSION = "2023-09-01"
PARAMETERS = INFRA / "main.parameters.json"
SUFFIXES = ("_s", "_b", "_d", "_t", "_g")
# main.bicep parameter -> the name this hook reads it under (resolved from azd's environment).
PARAMETER_VARIABLES = {
    "existingWorkspaceName": "EXISTING_WORKSPACE_NAME",
    "existingWorkspaceResourceGroup": "EXISTING_WORKSPACE_RESOURCE_GROUP",
    "figTableMode": "FIG_TABLE_MODE",
    "wallarmTableMode": "WALLARM_TABLE_MODE",
    "wallarmClassicTable": "WALLARM_CLASSIC_TABLE",
}
# Source -> (azd variable of its mode, the typed table, azd variable naming its classic table).
SOURCES = {
    "fig": ("FIG_TABLE_MODE", "FigEvents_CL", ""),
    "wallarm": ("WALLARM_TABLE_MODE", "WallarmEvents_CL", "WALLARM_CLASSIC_TABLE"),
}


# Columns every Data Collector table has besides the records' own (Log Analytics adds them).
STANDARD_COLUMNS = frozenset(
    {
        "TimeGenerated",
        "TenantId",
        "SourceSystem",
        "Computer",
        "MG",
        "ManagementGroupName",
        "RawData",
        "Type",
        "_ResourceId",
    }
)


class MigrationRefused(RuntimeError):
    """The existing table is not the one expected: nothing was changed."""


@dataclass(frozen=True)
class Arm:
    """The few ARM calls the hook makes, with a bearer token."""

    endpoint: str
    token: str
    context: ssl.SSLContext | None = None
    api_version: str = API_VERSION

    def call(self, method: str, path: str, body: object = None) -> tuple[int, Any]:
        """Send one request; return (status, parsed JSON or None). 4xx/5xx are returned."""
        url = f"{self.endpoint.rstrip('/')}{path}?api-version={self.api_version}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310
        request.add_header("Authorization", f"Bearer {self.token}")
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, context=self.context, timeout=30) as answer:  # noqa: S310
                text = answer.read()
                return answer.status, json.loads(text) if text else None
        except urllib.error.HTTPError as error:
            text = error.read()
            return error.code, json.loads(text) if text else None


def expected_columns(
    table: str, tables_dir: Path = TABLES
) -> tuple[dict[str, str], dict[str, str]]:
    """(legacy columns the connector wrote, typed columns the bridge adds): name -> type."""
    legacy = json.loads((tables_dir / "legacy" / f"{table}.json").read_text(encoding="utf-8"))
    typed = json.loads((tables_dir / f"{table}.json").read_text(encoding="utf-8"))
    return (
        {c["name"]: c["type"] for c in [*legacy["columns"], *legacy["connectorOnlyColumns"]]},
        {c["name"]: c["type"] for c in typed["columns"]},
    )


def _base(name: str) -> str:
    return name[:-2] if name.endswith(SUFFIXES) else name


def differences(
    existing: Mapping[str, str], legacy: Mapping[str, str], typed: Mapping[str, str]
) -> list[str]:
    """What makes an existing table other than the connector's (empty: it is)."""
    problems = []
    for name, kind in {**legacy, **typed}.items():
        if name in existing and existing[name].lower() != kind.lower():
            problems.append(f"column {name} is {existing[name]}, expected {kind}")
    for name in legacy:
        if name in existing:
            continue
        others = [
            c for c in existing if c != name and _base(c) == _base(name) and c[-2:] in SUFFIXES
        ]
        if others:
            problems.append(f"column {name} is missing but {', '.join(sorted(others))} exists")
    unknown = sorted(set(existing) - set(legacy) - set(typed) - STANDARD_COLUMNS)
    if unknown:
        problems.append(
            f"columns {', '.join(unknown)} are not declared, and the deployment's schema would "
            "drop them (to keep them, add them to connectorOnlyColumns in "
            "infra/tables/legacy/<table>.json)"
        )
    if not any(name in existing for name in legacy):
        problems.append(f"none of the connector's columns ({', '.join(legacy)}) is there")
    return problems


def table_path(subscription: str, group: str, workspace: str, table: str) -> str:
    """The table's ARM path."""
    return (
        f"/subscriptions/{subscription}/resourceGroups/{group}/providers/"
        f"Microsoft.OperationalInsights/workspaces/{workspace}/tables/{table}"
    )


def migrate_table(arm: Arm, path: str, typed_table: str, tables_dir: Path = TABLES) -> str:
    """Migrate one classic table if needed; return what happened (for the log).

    Raises:
        MigrationRefused: Its columns are not the connector's, or ARM refused.
    """
    name = path.rsplit("/", 1)[1]
    status, body = arm.call("GET", path)
    if status == 404:
        return f"{name}: no such table; the deployment creates it"
    if status != 200:
        raise MigrationRefused(f"{name}: reading the table answered {status}: {body}")
    schema = body["properties"]["schema"]
    existing = {c["name"]: c["type"] for c in schema.get("columns", [])}
    existing |= {c["name"]: c["type"] for c in schema.get("standardColumns", [])}
    legacy, typed = expected_columns(typed_table, tables_dir)
    problems = differences(existing, legacy, typed)
    if problems:
        raise MigrationRefused(
            f"{name} is not the table the connector created, so it is left as it is: "
            + "; ".join(problems)
            + ". Choose the alongside mode, or fix the table (docs/migrate.md)."
        )
    if schema.get("tableSubType") == "DataCollectionRuleBased":
        return f"{name}: already migrated; nothing to do"
    status, body = arm.call("POST", f"{path}/migrate")
    if status not in (200, 202, 204):
        raise MigrationRefused(f"{name}: the migrate action answered {status}: {body}")
    return f"{name}: migrated (its columns and rows are kept)"


def plan(environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """(classic table, typed table) for each source in migrate mode."""
    tables = []
    for mode_variable, typed, classic_variable in SOURCES.values():
        if environ.get(mode_variable, "new") == "migrate":
            classic = environ.get(classic_variable, "") if classic_variable else ""
            tables.append((classic or typed, typed))
    return tables


def parameter(environ: Mapping[str, str], name: str, parameters: Path = PARAMETERS) -> str:
    """A parameter as main.parameters.json gives it (``${VAR=default}`` read from azd's
    environment), so the hook and the deployment agree; empty when absent."""
    document = json.loads(parameters.read_text(encoding="utf-8"))
    value = str(document["parameters"].get(name, {}).get("value", ""))
    if value.startswith("${") and value.endswith("}"):
        variable, _, default = value[2:-1].partition("=")
        return environ.get(variable, default) or default
    return value


def run(
    environ: Mapping[str, str],
    arm: Arm,
    tables_dir: Path = TABLES,
    parameters: Path = PARAMETERS,
) -> list[str]:
    """Migrate every table the deployment's parameters ask for; return what happened."""
    resolved = {
        variable: parameter(environ, name, parameters)
        for name, variable in PARAMETER_VARIABLES.items()
    }
    workspace = resolved["EXISTING_WORKSPACE_NAME"]
    if not plan(resolved):
        return []
    if not workspace:
        return ["a new workspace has no classic table to migrate"]
    group = resolved["EXISTING_WORKSPACE_RESOURCE_GROUP"] or environ["AZURE_RESOURCE_GROUP"]
    subscription = environ["AZURE_SUBSCRIPTION_ID"]
    return [
        migrate_table(arm, table_path(subscription, group, workspace, classic), typed, tables_dir)
        for classic, typed in plan(resolved)
    ]


def cli_token(
    command: Sequence[str] = ("az", "account", "get-access-token", "--output", "json"),
) -> str:
    """The signed-in user's ARM token from the az CLI."""
    completed = subprocess.run(list(command), capture_output=True, text=True, check=True)  # noqa: S603
    return str(json.loads(completed.stdout)["accessToken"])


def main(environ: Mapping[str, str]) -> int:
    """Run the hook; 1 (azd stops) when a table is refused."""
    modes = {v: parameter(environ, n) for n, v in PARAMETER_VARIABLES.items()}
    if not plan(modes):
        return 0
    arm = Arm("https://management.azure.com", cli_token())
    try:
        for line in run(environ, arm):
            print(line)
    except MigrationRefused as refused:
        print(f"Table migration refused: {refused}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(os.environ))
