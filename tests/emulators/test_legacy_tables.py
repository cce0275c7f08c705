"""Coming from the HTTP Data Collector API: a workspace that already holds Fig's or Wallarm's
classic table keeps answering the old queries, with the bridge's events, in each mode.

Each test starts from a workspace holding only the classic table (seeded the way the Data
Collector API stored the old connector's records), deploys the source in a mode (the azd
hook over ARM, then what the Bicep deploys), sends rows through the real
LogsIngestionClient as the app does, and asks the real LogsQueryClient the old queries.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from azure.identity import ManagedIdentityCredential

from local import legacy
from local.emulators import EmulatorStack
from local.emulators.workspace import CLASSIC, DCR_BASED
from tests.content.bridge_rows import fig_login, fig_rows, wallarm_hit, wallarm_rows
from tests.emulators.legacy_support import (
    deploy,
    hook,
    query,
    run_hook,
    send,
    start_with_classic,
)
from tests.payloads import parsed

FIG = "FigEvents_CL"
WALLARM = "WallarmEvents_CL"
FAILED_LOGINS = 'FigEvents_CL | where eventType_s == "SecurityEvent" | where success_b == false'
SETTING_CHANGES = 'FigEvents_CL | where eventType_s == "SettingValueChanged"'


def _ago(hours: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


def fig_connector_records() -> list[dict[str, Any]]:
    """What Fig's connector posted: a failed login and a setting change, hours ago."""
    login = {**parsed("fig_sentinel_connector_log_record.json"), "timestamp": _ago(3)}
    change = {
        "timestamp": _ago(2),
        "eventType": "SettingValueChanged",
        "username": "a*****n",
        "source": "Fig",
        "integration": "MicrosoftSentinel",
        "severity": "Informational",
    }
    return [login, change]


def bridge_fig_rows() -> list[dict[str, Any]]:
    """The bridge's rows for a failed login and a setting change (the app's Fig parser)."""
    change = parsed("fig_setting_value_changed.json")
    return [
        *fig_login(ago=timedelta(minutes=5), success=False, Hostname="ws-bridge"),
        *fig_rows("SettingValueChanged", change, ago=timedelta(minutes=4)),
    ]


def _fig_environment(mode: str) -> dict[str, str]:
    return {"FIG_TABLE_MODE": mode}


@pytest.fixture
def fig_classic(stack: EmulatorStack) -> EmulatorStack:
    """The emulated workspace with Fig's classic FigEvents_CL and nothing else."""
    # Fig's connector sent time-generated-field: timestamp.
    start_with_classic(stack, FIG, fig_connector_records(), "timestamp")
    return stack


def test_migrate_keeps_fig_queries_answering_old_and_new_rows(
    fig_classic: EmulatorStack, credential: ManagedIdentityCredential, tmp_path: Path
) -> None:
    """migrate: the hook migrates the classic table in place; the DCR fills typed and legacy
    columns; Fig's documented queries return the connector's rows and the bridge's, with
    source_s Fig and integration_s MicrosoftSentinel."""
    stack = fig_classic
    assert run_hook(stack, credential, tmp_path, _fig_environment("migrate")) == [
        f"{FIG}: migrated (its columns and rows are kept)"
    ]
    assert deploy(stack, credential, FIG, "migrate") == FIG
    send(stack, credential, FIG, bridge_fig_rows())

    failed = query(stack, credential, FAILED_LOGINS + " | order by TimeGenerated asc")
    assert [row["hostname_s"] for row in failed] == ["ws-01", "ws-bridge"]
    new = failed[1]
    assert (new["source_s"], new["integration_s"]) == ("Fig", "MicrosoftSentinel")
    assert new["figEventType_s"] == "Login"
    assert new["EventType"] == "SecurityEvent"  # the typed columns are filled too
    assert new["EventId"]
    changes = query(stack, credential, SETTING_CHANGES)
    assert len(changes) == 2
    assert {row["source_s"] for row in changes} == {"Fig"}
    table = stack.workspace.table(FIG)
    assert table is not None
    assert table.sub_type == DCR_BASED
    assert stack.workspace.dropped() == []


def test_rerunning_the_migration_changes_nothing(
    fig_classic: EmulatorStack, credential: ManagedIdentityCredential, tmp_path: Path
) -> None:
    """The hook is idempotent: a second run (and a second deployment) finds the table
    migrated and leaves columns and rows as they are."""
    stack = fig_classic
    environment = _fig_environment("migrate")
    run_hook(stack, credential, tmp_path, environment)
    deploy(stack, credential, FIG, "migrate")
    send(stack, credential, FIG, bridge_fig_rows())
    before = stack.workspace.table(FIG)
    assert run_hook(stack, credential, tmp_path, environment) == [
        f"{FIG}: already migrated; nothing to do"
    ]
    deploy(stack, credential, FIG, "migrate")
    after = stack.workspace.table(FIG)
    assert before is not None
    assert after is not None
    assert (after.columns, after.rows) == (before.columns, before.rows)
    assert len(query(stack, credential, FAILED_LOGINS)) == 2


def test_a_table_that_is_not_the_connectors_is_refused(
    stack: EmulatorStack, credential: ManagedIdentityCredential, tmp_path: Path
) -> None:
    """A FigEvents_CL whose success column is text (success_s) is not migrated: the hook says
    what differs and the table stays classic."""
    records = [{**fig_connector_records()[0], "success": "false"}]
    start_with_classic(stack, FIG, records, "timestamp")
    with pytest.raises(hook.MigrationRefused, match="success_b is missing but success_s exists"):
        run_hook(stack, credential, tmp_path, _fig_environment("migrate"))
    table = stack.workspace.table(FIG)
    assert table is not None
    assert table.sub_type == CLASSIC


def test_new_mode_and_a_new_workspace_need_no_migration(
    stack: EmulatorStack, credential: ManagedIdentityCredential, tmp_path: Path
) -> None:
    """Nothing to do in new mode; in migrate mode without the table, the deployment creates
    it (typed and legacy columns) and the old queries work from the first row."""
    stack.workspace.reset()
    assert run_hook(stack, credential, tmp_path, _fig_environment("new")) == []
    assert run_hook(stack, credential, tmp_path, _fig_environment("migrate")) == [
        f"{FIG}: no such table; the deployment creates it"
    ]
    deploy(stack, credential, FIG, "migrate")
    send(stack, credential, FIG, bridge_fig_rows())
    assert len(query(stack, credential, FAILED_LOGINS)) == 1


def test_alongside_leaves_the_classic_table_and_unions_it_with_the_new_one(
    fig_classic: EmulatorStack, credential: ManagedIdentityCredential, tmp_path: Path
) -> None:
    """alongside: FigEvents_CL keeps only the connector's rows; the bridge writes
    FigEventsBridge_CL; the function FigEvents answers Fig's queries (FigEvents_CL ->
    FigEvents) with both, EventId telling the bridge's rows apart."""
    stack = fig_classic
    assert run_hook(stack, credential, tmp_path, _fig_environment("alongside")) == []
    assert deploy(stack, credential, FIG, "alongside") == "FigEventsBridge_CL"
    send(stack, credential, FIG, bridge_fig_rows())

    classic = stack.workspace.table(FIG)
    assert classic is not None
    assert (classic.sub_type, len(classic.rows)) == (CLASSIC, 2)
    failed = query(stack, credential, FAILED_LOGINS.replace(FIG, "FigEvents"))
    assert sorted(row["hostname_s"] for row in failed) == ["ws-01", "ws-bridge"]
    bridge = [row for row in failed if row["EventId"]]
    assert [(r["source_s"], r["integration_s"]) for r in bridge] == [("Fig", "MicrosoftSentinel")]
    assert len(query(stack, credential, SETTING_CHANGES.replace(FIG, "FigEvents"))) == 2
    assert query(stack, credential, "FigEventsBridge_CL | count")[0]["Count"] == 2


def _wallarm_connector_records(*, whole: bool = False) -> list[dict[str, Any]]:
    """A hit as Wallarm's integration posted it: whole, or only the fields the legacy
    columns declare (a table whose other columns were declared or never existed)."""
    hit = wallarm_hit("198.51.100.7", "old-request", ago=timedelta(hours=3))
    if not whole:
        details = hit["details"]
        hit["details"] = {
            "client_name": details["client_name"],
            "hit": {k: details["hit"][k] for k in ("remote_addr4", "type")},
        }
    return [{**hit, "type": "new_hits"}]


def test_undeclared_wallarm_columns_stop_a_migration(
    stack: EmulatorStack, credential: ManagedIdentityCredential, tmp_path: Path
) -> None:
    """A classic table with columns the legacy schema does not declare is not migrated (the
    deployment's schema would drop them): the hook names them and how to keep them."""
    start_with_classic(stack, WALLARM, _wallarm_connector_records(whole=True))
    environment = {"WALLARM_TABLE_MODE": "migrate"}
    with pytest.raises(hook.MigrationRefused, match=r"details_hit_method_s.*connectorOnlyColumns"):
        run_hook(stack, credential, tmp_path, environment)


@pytest.mark.parametrize("mode", ["migrate", "alongside"])
def test_a_wallarm_named_table_keeps_answering(
    stack: EmulatorStack, credential: ManagedIdentityCredential, tmp_path: Path, mode: str
) -> None:
    """A Wallarm team that named its table WallarmEvents has a classic WallarmEvents_CL:
    migrated or kept beside the new table, its old columns answer for old and new hits."""
    start_with_classic(stack, WALLARM, _wallarm_connector_records())
    environment = {"WALLARM_TABLE_MODE": mode, "WALLARM_CLASSIC_TABLE": WALLARM}
    run_hook(stack, credential, tmp_path, environment)
    deploy(stack, credential, WALLARM, mode)  # type: ignore[arg-type]
    send(
        stack,
        credential,
        WALLARM,
        wallarm_rows(
            [wallarm_hit("203.0.113.5", "new", ago=timedelta(minutes=3))], ago=timedelta(minutes=3)
        ),
    )
    source = WALLARM if mode == "migrate" else "WallarmEvents"
    rows = query(stack, credential, f'{source} | where type_s == "new_hits"')
    assert sorted(row["details_hit_remote_addr4_s"] for row in rows) == [
        "198.51.100.7",
        "203.0.113.5",
    ]


def test_wallarm_per_type_functions_union_history_with_new_rows(
    stack: EmulatorStack, credential: ManagedIdentityCredential
) -> None:
    """Each legacy per-type table has a function of its event type's name (new_hits for
    new_hits_CL): the table's history and the bridge's rows of that type, in legacy columns."""
    start_with_classic(stack, "new_hits_CL", _wallarm_connector_records())
    deploy(stack, credential, WALLARM, "new", per_type=True)
    new_hit = wallarm_hit("203.0.113.5", "new", ago=timedelta(minutes=3))
    send(stack, credential, WALLARM, wallarm_rows([new_hit], ago=timedelta(minutes=3)))
    spec = legacy.load_legacy(WALLARM)
    assert set(stack.workspace.functions()) == {
        legacy.function_name(t) for t in spec.per_type_tables
    }
    rows = query(stack, credential, "new_hits | project details_hit_remote_addr4_s, EventId")
    assert sorted(row["details_hit_remote_addr4_s"] for row in rows) == [
        "198.51.100.7",
        "203.0.113.5",
    ]
    assert query(stack, credential, "create_user | count")[0]["Count"] == 0
