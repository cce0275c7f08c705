"""The whole incident for one destination event: alerts, entities and the new comments.

Three ARM reads through the ``IncidentApi`` port (alerts, entities, comments), shaped by
the pure ``augment`` and ``timeline`` modules. Every event (created, updated, closed)
carries them, so a consumer never has to remember an earlier event to have the incident.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from shared.incidents.domain.augment import Augmentation, augmentation
from shared.incidents.ports import IncidentApi
from shared.incidents.timeline import comments_since


async def read_whole(api: IncidentApi, name: str, since: datetime | None) -> Augmentation:
    """Incident ``name``'s alerts and entities, and its comments created after ``since``
    (all of them when None: a first event).

    Raises:
        UpstreamUnavailable: ARM failed (the caller sends the event without them).
    """
    extra = augmentation(await api.alerts(name), await api.entities(name))
    return replace(extra, **comments_since(await api.comments(name), since))
