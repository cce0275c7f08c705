"""The whole incident for one destination event: alerts, entities and the new comments.

Three ARM reads through the ``IncidentApi`` port (alerts, entities, comments), shaped by
the pure ``augment`` and ``timeline`` modules, and, when enabled, the rows behind each
alert (``search_results``). Every event (created, updated, closed)
carries them, so a consumer never has to remember an earlier event to have the incident.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from shared.incidents.domain.augment import Augmentation, augmentation
from shared.incidents.ports import IncidentApi
from shared.incidents.search_results import AlertSearch
from shared.incidents.timeline import comments_since


async def read_whole(
    api: IncidentApi,
    name: str,
    since: datetime | None,
    *,
    search: AlertSearch | None = None,
    now: datetime | None = None,
) -> Augmentation:
    """Incident ``name``'s alerts and entities, and its comments created after ``since``
    (all of them when None: a first event); with ``search``, the rows behind each alert
    (read as of ``now``, never failing the read).

    Raises:
        UpstreamUnavailable: ARM failed (the caller sends the event without them).
    """
    extra = augmentation(await api.alerts(name), await api.entities(name))
    extra = replace(extra, **comments_since(await api.comments(name), since))
    if search is not None and now is not None:
        extra = await search.attach(extra, now)
    return extra
