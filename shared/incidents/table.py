"""The incident state (``IncidentState``) in a Table storage table on the host's account.

Entities, by partition::

    poll       / marks          Watermark, LastSweep (ISO-8601 UTC)
    incident   / <name, lower>  Version, Fingerprint, Status, Destinations, OwnEtags (JSON)
    breaker    / <destination>  Buckets (JSON), DisabledAt, LastProbe
    kibanacase / <name, lower>  Name, CaseId: incidents created from a Kibana case

Each source of ``INCIDENT_SOURCES`` but ``default`` keeps its own entities, in partitions
suffixed ``@<source id>`` (``poll@contoso``...): its own watermark, records and breakers.
The ``default`` source's partitions are unsuffixed, as before there were several.

The table is ``<HEALTH_TABLE_NAME>incidents`` (cut to 63 characters), created on first
write. The SDK client is sync; calls run in a worker thread; storage failures surface as
``UpstreamUnavailable`` (the poller then holds its watermark).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from azure.core.exceptions import AzureError, ResourceNotFoundError
from azure.data.tables import TableClient, TableEntity

from shared.adapters.storage_common import table_client, unavailable, upsert_entity
from shared.incidents.domain.breaker import Breaker
from shared.incidents.domain.state import Forwarded
from shared.incidents.ports import PollMarks
from shared.rows.tablekeys import table_key

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

    from shared.config.storage import StorageConnection

SUFFIX = "incidents"
CASES = "kibanacase"


def table_name(health_table_name: str) -> str:
    """The incident table's name, next to the health table's."""
    return (health_table_name + SUFFIX)[:63]


class TableIncidentState:
    """``IncidentState`` over a (sync) ``TableClient``."""

    def __init__(self, table: TableClient, *, scope: str = "") -> None:
        self._table = table
        self._suffix = f"@{scope}" if scope else ""

    def scoped(self, scope: str) -> TableIncidentState:
        """The same table, for the source ``scope`` (empty: the default source)."""
        return TableIncidentState(self._table, scope=scope)

    def _p(self, partition: str) -> str:
        return partition + self._suffix

    async def marks(self) -> PollMarks:
        """The watermark and last sweep (none before the first poll)."""
        entity = await self._call(self._get, self._p("poll"), "marks")
        if entity is None:
            return PollMarks()
        return PollMarks(_time(entity.get("Watermark")), _time(entity.get("LastSweep")))

    async def save_marks(self, marks: PollMarks) -> None:
        """Store the watermark and last sweep."""
        entity = {
            "PartitionKey": self._p("poll"),
            "RowKey": "marks",
            "Watermark": _iso(marks.watermark),
            "LastSweep": _iso(marks.last_sweep),
        }
        await self._call(self._upsert, entity)

    async def forwarded(self, name: str) -> Forwarded | None:
        """One incident's record."""
        entity = await self._call(self._get, self._p("incident"), table_key(name))
        return None if entity is None else _record(entity)

    async def all_forwarded(self) -> dict[str, Forwarded]:
        """Every record (one query, by partition)."""
        entities = await self._call(self._partition, self._p("incident"))
        return {str(e["RowKey"]): _record(e) for e in entities}

    async def save_forwarded(self, record: Forwarded) -> None:
        """Store one record."""
        entity = {
            "PartitionKey": self._p("incident"),
            "RowKey": table_key(record.name),
            "Name": record.name,
            "Version": record.version,
            "Fingerprint": record.fingerprint,
            "Status": record.status,
            "Destinations": json.dumps(list(record.destinations)),
            "OwnEtags": json.dumps(list(record.own_etags)),
            "Sent": record.sent,
        }
        await self._call(self._upsert, entity)

    async def forget_forwarded(self, name: str) -> None:
        """Delete one incident's record."""
        await self._call(self._table.delete_entity, self._p("incident"), table_key(name))

    async def save_case(self, name: str, case_id: str) -> None:
        """Record that incident ``name`` was created from Kibana case ``case_id``."""
        entity = {
            "PartitionKey": self._p(CASES),
            "RowKey": table_key(name),
            "Name": name,
            "CaseId": case_id,
        }
        await self._call(self._upsert, entity)

    async def case_of(self, name: str) -> str | None:
        """The Kibana case incident ``name`` was created from, or None."""
        entity = await self._call(self._get, self._p(CASES), table_key(name))
        return None if entity is None else str(entity.get("CaseId", ""))

    async def breaker(self, destination: str) -> Breaker:
        """One destination's breaker."""
        entity = await self._call(self._get, self._p("breaker"), destination)
        if entity is None:
            return Breaker()
        buckets = json.loads(str(entity.get("Buckets", "[]")))
        return Breaker(
            buckets=tuple((int(b[0]), int(b[1]), int(b[2])) for b in buckets),
            disabled_at=_time(entity.get("DisabledAt")),
            last_probe=_time(entity.get("LastProbe")),
        )

    async def save_breaker(self, destination: str, breaker: Breaker) -> None:
        """Store one destination's breaker."""
        entity = {
            "PartitionKey": self._p("breaker"),
            "RowKey": destination,
            "Buckets": json.dumps([list(b) for b in breaker.buckets]),
            "DisabledAt": _iso(breaker.disabled_at),
            "LastProbe": _iso(breaker.last_probe),
        }
        await self._call(self._upsert, entity)

    async def _call(self, function: Callable[..., Any], *args: Any) -> Any:
        try:
            return await asyncio.to_thread(function, *args)
        except AzureError as error:
            raise unavailable("incident state", error) from None

    def _get(self, partition: str, row: str) -> TableEntity | None:
        try:
            return self._table.get_entity(partition, row)
        except ResourceNotFoundError:  # no entity, or no table yet
            return None

    def _partition(self, partition: str) -> list[TableEntity]:
        try:
            return list(
                self._table.query_entities("PartitionKey eq @p", parameters={"p": partition})
            )
        except ResourceNotFoundError:
            return []

    def _upsert(self, entity: dict[str, Any]) -> None:
        upsert_entity(self._table, entity)


def build_incident_state(
    connection: StorageConnection, credential: TokenCredential | None, *, health_table_name: str
) -> TableIncidentState:
    """The incident table on the host's storage account (see ``build_health_table``)."""
    return TableIncidentState(table_client(connection, credential, table_name(health_table_name)))


def _record(entity: TableEntity) -> Forwarded:
    return Forwarded(
        name=str(entity.get("Name") or entity["RowKey"]),
        version=str(entity.get("Version", "")),
        fingerprint=str(entity.get("Fingerprint", "")),
        status=str(entity.get("Status", "")),
        destinations=tuple(json.loads(str(entity.get("Destinations", "[]")))),
        own_etags=tuple(json.loads(str(entity.get("OwnEtags", "[]")))),
        sent=entity.get("Sent") is not False,  # records written before the field: sent
    )


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment is not None else ""


def _time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value)
