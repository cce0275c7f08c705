"""Deploying a source in a table mode against the local Azure, the way azd does.

:func:`run_hook` is infra/hooks/migrate_tables.py over HTTP against the ARM emulator with
the identity emulator's ARM token; :func:`deploy` does what stream.bicep, workspace.bicep
and dcr.bicep deploy for one source (the table PUT, the saved searches, the DCR's flow),
with the texts local/legacy.py builds (tests/infra/test_legacy.py holds them to the Bicep).
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from azure.core.credentials import TokenCredential
from azure.monitor.ingestion import LogsIngestionClient
from azure.monitor.query import LogsQueryClient, LogsQueryResult

from local import legacy
from local.emulators import EmulatorStack
from tests.azd_hooks import load_hook
from tests.payloads import parsed

ARM_SCOPE = "https://management.azure.com/.default"
DAY = timedelta(days=1)


hook = load_hook("migrate_tables")


def arm(stack: EmulatorStack, credential: TokenCredential, api_version: str = "") -> Any:
    """The hook's ARM client for the emulator, with the identity emulator's ARM token."""
    context = ssl.create_default_context(cafile=str(stack.ca_path))
    token = credential.get_token(ARM_SCOPE).token
    return hook.Arm(stack.arm_endpoint, token, context, api_version or hook.API_VERSION)


def run_hook(
    stack: EmulatorStack,
    credential: TokenCredential,
    tmp_path: Path,
    environ: Mapping[str, str],
) -> list[str]:
    """The hook as azd runs it, with a parameters file naming the emulated workspace."""
    parameters = json.loads(hook.PARAMETERS.read_text(encoding="utf-8"))
    parameters["parameters"]["existingWorkspaceName"] = {"value": stack.sentinel_workspace_name}
    path = tmp_path / "main.parameters.json"
    path.write_text(json.dumps(parameters), encoding="utf-8")
    environment = {
        "AZURE_SUBSCRIPTION_ID": stack.sentinel_subscription_id,
        "AZURE_RESOURCE_GROUP": stack.sentinel_resource_group,
        **environ,
    }
    result: list[str] = hook.run(environment, arm(stack, credential), parameters=path)
    return result


def table_path(stack: EmulatorStack, table: str) -> str:
    """A table's ARM path in the emulated workspace."""
    path: str = hook.table_path(
        stack.sentinel_subscription_id,
        stack.sentinel_resource_group,
        stack.sentinel_workspace_name,
        table,
    )
    return path


def start_with_classic(
    stack: EmulatorStack,
    table: str,
    records: Sequence[Mapping[str, Any]],
    time_generated_field: str = "",
) -> None:
    """A workspace that holds only the classic table the old connector filled."""
    stack.ingestion.flows.clear()
    stack.workspace.reset()
    stack.workspace.seed_classic(table, records, time_generated_field)


def deploy(
    stack: EmulatorStack,
    credential: TokenCredential,
    table: str,
    mode: legacy.Mode,
    *,
    classic: str = "",
    per_type: bool = False,
) -> str:
    """Deploy one source's table, functions and data flow in ``mode``; return the table
    the DCR writes."""
    spec = legacy.load_legacy(table)
    classic = classic or table
    destination = legacy.destination(table, mode, classic)
    columns = [{"name": n, "type": t} for n, t in legacy.deployed_columns(table, mode, spec)]
    body = {"properties": {"schema": {"name": destination, "columns": columns}}}
    status, answer = arm(stack, credential).call("PUT", table_path(stack, destination), body)
    assert status in (200, 201), answer
    functions = legacy.per_type_functions(spec, destination) if per_type else {}
    if mode == "alongside":
        functions[legacy.function_name(classic)] = legacy.union_function(spec, classic, destination)
    searches = arm(stack, credential, "2020-08-01")
    base = table_path(stack, destination).rsplit("/tables/", 1)[0]
    for name, query in functions.items():
        properties: dict[str, object] = {"category": "sentinel-bridge legacy", "version": 2}
        properties |= {"displayName": name, "query": query, "functionAlias": name}
        path = f"{base}/savedSearches/sentinel-bridge-{name}"
        status, answer = searches.call("PUT", path, {"properties": properties})
        assert status == 200, answer
    stream = "Custom-" + table.removesuffix("_CL")
    stack.ingestion.flows.set(
        stream, legacy.transform_kql(spec if mode == "migrate" else None), destination
    )
    return destination


def send(
    stack: EmulatorStack, credential: TokenCredential, table: str, rows: Sequence[Any]
) -> None:
    """Rows as the app sends them: one typed stream whatever the mode."""
    with LogsIngestionClient(
        stack.ingestion_endpoint, credential, connection_verify=str(stack.ca_path), retry_total=0
    ) as client:
        client.upload(stack.dcr_id, "Custom-" + table.removesuffix("_CL"), list(rows))


def query(stack: EmulatorStack, credential: TokenCredential, kql: str) -> list[dict[str, Any]]:
    """A query's rows through the real LogsQueryClient, over the last day."""
    with LogsQueryClient(
        credential,
        endpoint=stack.logs_query_endpoint,
        audience="https://api.loganalytics.io",
        connection_verify=str(stack.ca_path),
        retry_total=0,
    ) as client:
        result = client.query_workspace(stack.workspace.customer_id, kql, timespan=DAY)
    assert isinstance(result, LogsQueryResult)
    [table] = result.tables
    return [dict(zip(table.columns, row, strict=True)) for row in table.rows]


FAILED_LOGINS = 'FigEvents_CL | where eventType_s == "SecurityEvent" | where success_b == false'
SETTING_CHANGES = 'FigEvents_CL | where eventType_s == "SettingValueChanged"'


def ago_text(hours: float) -> str:
    """An ISO 8601 UTC time ``hours`` ago, as the connector wrote ``timestamp``."""
    return (datetime.now(UTC) - timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


def fig_connector_records() -> list[dict[str, Any]]:
    """What Fig's connector posted: a failed login and a setting change, hours ago."""
    login = {**parsed("fig_sentinel_connector_log_record.json"), "timestamp": ago_text(3)}
    change = {
        "timestamp": ago_text(2),
        "eventType": "SettingValueChanged",
        "username": "a*****n",
        "source": "Fig",
        "integration": "MicrosoftSentinel",
        "severity": "Informational",
    }
    return [login, change]
