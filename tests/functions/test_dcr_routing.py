"""Twelve tables through two DCRs: the app sends each stream to the rule that declares it."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from local.emulators.stack import EmulatorStack
from local.emulators.streams import load_streams
from shared.adapters.ingestion import LogsIngestionSink
from shared.bootstrap import root
from shared.errors import IngestionFailed
from tests.azure_fixtures import use_settings
from tests.infra.bicep import TABLES_DIR, stream_of

pytestmark = pytest.mark.usefixtures("app_env")
STREAMS_PER_RULE = 10  # infra/app/dcr.bicep: streamsPerRule


def twelve_tables(folder: Path) -> list[str]:
    """infra/tables plus test tables shaped like FigEvents, up to twelve; their streams."""
    shutil.copytree(TABLES_DIR, folder)
    template = json.loads((TABLES_DIR / "FigEvents_CL.json").read_text(encoding="utf-8"))
    number = 0
    while len(list(folder.glob("*.json"))) < 12:
        number += 1
        name = f"Test{number:02d}Events_CL"
        (folder / f"{name}.json").write_text(json.dumps({**template, "name": name}), "utf-8")
    # main.bicep lists the files in name order; the streams keep that order.
    return [stream_of(path.stem) for path in sorted(folder.glob("*.json"))]


def routes_as_deployed(streams: list[str], rule_ids: list[str]) -> str:
    """LOGS_INGESTION_DCR_ROUTES as main.bicep joins dcr.bicep's routeMembers."""
    members = [f'"{s}":"{rule_ids[i // STREAMS_PER_RULE]}"' for i, s in enumerate(streams)]
    return "{" + ",".join(members) + "}"


def fig_row() -> dict[str, object]:
    now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return {"TimeGenerated": now, "EventId": os.urandom(16).hex(), "EventType": "SecurityEvent"}


def test_the_twelfth_table_lands_through_the_second_dcr(
    emulators: EmulatorStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rule 1 declares streams 1-10, rule 2 the rest; every stream lands through its rule."""
    streams = twelve_tables(tmp_path / "tables")
    first = root().settings().logs_ingestion_dcr_id
    second = "dcr-" + "2" * 32
    ingestion = emulators.ingestion
    monkeypatch.setattr(ingestion, "streams", load_streams(tmp_path / "tables"))
    monkeypatch.setattr(
        ingestion,
        "rules",
        {first: frozenset(streams[:STREAMS_PER_RULE]), second: frozenset(streams[10:])},
    )
    use_settings(LOGS_INGESTION_DCR_ROUTES=routes_as_deployed(streams, [first, second]))
    routed = root().clients().sink
    assert isinstance(routed, LogsIngestionSink)
    for stream in streams:
        asyncio.run(routed.send(stream, [fig_row()]))
        assert len(ingestion.rows(stream)) == 1, stream
        asyncio.run(routed.probe(stream))  # health probes each DCR through its streams

    # Without the map, the twelfth stream goes to the first rule, which does not declare it.
    use_settings(LOGS_INGESTION_DCR_ROUTES=None)
    unrouted = root().clients().sink
    with pytest.raises(IngestionFailed) as failed:
        asyncio.run(unrouted.send(streams[-1], [fig_row()]))
    assert [r.status for r in failed.value.refused] == [404]
