"""Attach the rows behind each alert to an incident's message, within bounds.

One ``SecurityAlert`` lookup finds the alerts' queries and windows (``domain.search``);
then each alert's query runs over its window, a few at a time, all under one timeout.
Nothing here fails a forward: an alert whose rows could not be read, did not fit, or
came too late carries a short reason instead (``unavailable``).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from shared.config.search import SearchSettings
from shared.errors import UpstreamUnavailable
from shared.incidents.domain.augment import MAX_VALUES, Augmentation
from shared.incidents.domain.search import (
    AlertQuery,
    alert_queries,
    bounded,
    capped,
    lookup_query,
    lookup_window,
    unavailable,
)
from shared.incidents.ports import LogsReader

logger = logging.getLogger(__name__)

CONCURRENT_QUERIES = 4
NO_QUERY = "the alert records no query and window (not from a scheduled rule)"
TIMED_OUT = "timed out"
NO_ID = "the alert has no id"
KEY = "searchResults"


@dataclass(frozen=True)
class AlertSearch:
    """The rows behind alerts, read through ``reader`` within ``settings``' bounds."""

    reader: LogsReader
    settings: SearchSettings

    async def attach(self, extra: Augmentation, now: datetime) -> Augmentation:
        """``extra`` with ``searchResults`` on each alert (a reason where there are none)."""
        if not extra.alerts:
            return extra
        found: dict[str, dict[str, Any]] = {}
        late = TIMED_OUT
        try:
            async with asyncio.timeout(self.settings.timeout_seconds):
                await self._search(extra, now, found)
        except TimeoutError:
            logger.warning("Search results cut short after %ss", self.settings.timeout_seconds)
        except UpstreamUnavailable as error:  # the lookup itself failed
            late = error.message
            logger.warning("Search results unavailable: %s", error.message)
        alerts = tuple(alert | {KEY: _result(alert, found, late)} for alert in extra.alerts)
        return replace(extra, alerts=alerts)

    async def _search(
        self, extra: Augmentation, now: datetime, found: dict[str, dict[str, Any]]
    ) -> None:
        ids = [str(a["id"]) for a in extra.alerts if isinstance(a.get("id"), str)]
        lookup = lookup_query(ids, limit=MAX_VALUES * 4)
        if lookup is None:
            return
        start, end = lookup_window(extra.alerts, now)
        queries = alert_queries(await self.reader.query(lookup, start=start, end=end))
        for alert_id in ids:
            if alert_id not in queries:
                found[alert_id] = unavailable(NO_QUERY)
        gate = asyncio.Semaphore(CONCURRENT_QUERIES)
        async with asyncio.TaskGroup() as group:
            for query in queries.values():
                group.create_task(self._rows(query, gate, found))

    async def _rows(
        self, query: AlertQuery, gate: asyncio.Semaphore, found: dict[str, dict[str, Any]]
    ) -> None:
        async with gate:
            try:
                table = await self.reader.query(
                    capped(query.text, self.settings.max_rows), start=query.start, end=query.end
                )
            except UpstreamUnavailable as error:
                found[query.alert_id] = unavailable(error.message)
                return
        found[query.alert_id] = bounded(
            table, rows=self.settings.max_rows, max_bytes=self.settings.max_bytes
        )


def _result(alert: dict[str, Any], found: dict[str, dict[str, Any]], late: str) -> dict[str, Any]:
    alert_id = alert.get("id")
    if not isinstance(alert_id, str):
        return unavailable(NO_ID)
    return found.get(alert_id) or unavailable(late)
