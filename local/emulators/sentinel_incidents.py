"""The incidents, comments, alerts and entities of one workspace (the Sentinel emulator's data).

No HTTP here; :mod:`local.emulators.sentinel` serves it and the resource shapes are built in
:mod:`local.emulators.sentinel_model`. Confirmed by the reference
(payloads.md section 5, sentinel-incidents.md section 3): resource shapes; the ``etag`` is a
GUID string *with* its quote characters; PUT replaces the incident; a stale body ``etag``
answers 409 "Newer version of resource '...' exists. Data was not saved". Assumed: a PUT
without ``etag`` overwrites (last write wins); an ``etag`` on a create is ignored; omitted
activity times are kept; a comment does not change the incident's etag or lastModified
(switchable with ``comments_bump_incident``); a comment's etag is unquoted (as in the
reference example).
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from local.emulators.sentinel_data import RESOURCE_TYPE, WorkspaceRef, default_alert, default_entity
from local.emulators.sentinel_filter import format_utc, parse_utc
from local.emulators.sentinel_model import (
    MAX_COMMENTS,
    ArmError,
    comment_message,
    labels_of,
    new_comment,
    new_etag,
    owner_of,
    put_properties,
    replace_properties,
    seed_properties,
    validate_properties,
)


@dataclass
class _Record:
    resource: dict[str, Any]
    comments: dict[str, dict[str, Any]] = field(default_factory=dict)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    entities: list[dict[str, Any]] = field(default_factory=list)


class IncidentStore:
    """Thread-safe incidents of one workspace.

    Args:
        workspace: Subscription, resource group and workspace the ids name.
        clock: Aware "now"; lastModifiedTimeUtc is kept strictly increasing over it.
    """

    def __init__(self, workspace: WorkspaceRef, clock: Callable[[], datetime]) -> None:
        self.workspace = workspace
        self.lock = threading.RLock()
        self._clock = clock
        self._records: dict[str, _Record] = {}
        self._last_stamp: datetime | None = None
        self._next_number = 1
        self.comments_bump_incident = False

    # -- time and ids ------------------------------------------------------------------------

    def stamp(self) -> str:
        """The next modification time, strictly after every earlier one (even in one tick)."""
        with self.lock:
            now = self._clock()
            if self._last_stamp is not None and now <= self._last_stamp:
                now = self._last_stamp + timedelta(microseconds=1)
            self._last_stamp = now
            return format_utc(now)

    def _note_stamp(self, text: str) -> None:
        instant = parse_utc(text)
        if self._last_stamp is None or instant > self._last_stamp:
            self._last_stamp = instant

    def _record(self, incident_id: str) -> _Record:
        record = self._records.get(incident_id.lower())
        if record is None:
            raise ArmError(404, "NotFound", f"Incident '{incident_id}' was not found.")
        return record

    def _refresh_counts(self, record: _Record) -> None:
        additional = record.resource["properties"]["additionalData"]
        additional["alertsCount"] = len(record.alerts)
        additional["commentsCount"] = len(record.comments)
        products = {a.get("properties", {}).get("productName") for a in record.alerts}
        additional["alertProductNames"] = sorted(p for p in products if isinstance(p, str))

    # -- incidents ---------------------------------------------------------------------------

    def seed(
        self,
        properties: Mapping[str, Any],
        *,
        incident_id: str | None = None,
        alerts: Sequence[Mapping[str, Any]] | None = None,
        entities: Sequence[Mapping[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Create an incident as an analytics rule would; see ``SentinelEmulator.seed_incident``."""
        name = incident_id or str(uuid.uuid4())
        with self.lock:
            if name.lower() in self._records:
                raise ValueError(f"incident {name} exists")
            created = properties.get("createdTimeUtc") or self.stamp()
            modified = properties.get("lastModifiedTimeUtc") or created
            self._note_stamp(created)
            self._note_stamp(modified)
            number = properties.get("incidentNumber", self._next_number)
            props = seed_properties(properties, self.workspace, name, number, created, modified)
            validate_properties(props)
            self._next_number = max(self._next_number, props["incidentNumber"]) + 1
            resource = {
                "id": self.workspace.incident_id(name),
                "name": name,
                "type": RESOURCE_TYPE,
                "etag": new_etag(),
                "properties": props,
            }
            record = _Record(resource)
            record.alerts = (
                [dict(a) for a in alerts]
                if alerts is not None
                else [default_alert(self.workspace, props)]
            )
            record.entities = (
                [dict(e) for e in entities]
                if entities is not None
                else [default_entity(self.workspace)]
            )
            self._refresh_counts(record)
            self._records[name.lower()] = record
            return copy.deepcopy(resource)

    def add_alert(
        self,
        incident_id: str,
        alert: Mapping[str, Any] | None,
        entities: Sequence[Mapping[str, Any]],
    ) -> dict[str, Any]:
        """An analytics rule groups one more alert (and its entities) into the incident:
        counts refreshed, a new etag and ``lastModifiedTimeUtc``."""
        with self.lock:
            record = self._record(incident_id)
            props = record.resource["properties"]
            record.alerts.append(dict(alert) if alert else default_alert(self.workspace, props))
            record.entities.extend(dict(e) for e in entities)
            self._refresh_counts(record)
            props["lastModifiedTimeUtc"] = self.stamp()
            record.resource["etag"] = new_etag()
            return copy.deepcopy(record.resource)

    def analyst_update(self, incident_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Merge ``changes`` (camelCase properties) as a portal edit.

        The etag is renewed and ``lastModifiedTimeUtc`` is always the next stamp (a value
        given in ``changes`` is overwritten), so edits stay strictly ordered.
        """
        with self.lock:
            record = self._record(incident_id)
            props = copy.deepcopy(record.resource["properties"])
            for key, value in changes.items():
                if key == "owner":
                    props["owner"] = owner_of(value)
                elif key == "labels":
                    props["labels"] = labels_of(value, props["labels"])
                else:
                    props[key] = value
            validate_properties(props)
            props["lastModifiedTimeUtc"] = self.stamp()
            record.resource["properties"] = props
            record.resource["etag"] = new_etag()
            return copy.deepcopy(record.resource)

    def get(self, incident_id: str) -> dict[str, Any]:
        """One incident (a copy)."""
        with self.lock:
            return copy.deepcopy(self._record(incident_id).resource)

    def all(self) -> list[dict[str, Any]]:
        """Every incident (copies), in creation order."""
        with self.lock:
            return [copy.deepcopy(r.resource) for r in self._records.values()]

    def put(self, incident_id: str, body: object) -> tuple[dict[str, Any], bool]:
        """``PUT /incidents/{id}``: create, or replace the editable properties.

        Returns:
            The incident as stored, and whether it was created.

        Raises:
            ArmError: 400 for a bad body, 409 for a stale etag.
        """
        incoming, etag = put_properties(body)
        with self.lock:
            existing = self._records.get(incident_id.lower())
            if existing is None:
                created = self.seed(
                    {key: value for key, value in incoming.items() if value is not None},
                    incident_id=incident_id,
                    alerts=[],
                    entities=[],
                )
                return created, True
            if etag is not None and etag not in ("*", existing.resource["etag"]):
                raise ArmError(
                    409,
                    "Conflict",
                    f"Newer version of resource '{existing.resource['name']}' exists. "
                    "Data was not saved",
                )
            props = existing.resource["properties"]
            replace_properties(props, incoming)
            props["lastModifiedTimeUtc"] = self.stamp()
            existing.resource["etag"] = new_etag()
            return copy.deepcopy(existing.resource), False

    # -- children ----------------------------------------------------------------------------

    def put_comment(
        self, incident_id: str, comment_id: str, body: object, author: Mapping[str, Any]
    ) -> tuple[dict[str, Any], bool]:
        """``PUT .../comments/{commentId}``: idempotent by comment id.

        Returns:
            The comment, and whether it was created (False: an update of the same id).

        Raises:
            ArmError: 404 unknown incident; 400 bad body, too long, or over 100 comments.
        """
        message = comment_message(body)
        with self.lock:
            record = self._record(incident_id)
            comment = record.comments.get(comment_id.lower())
            now = self.stamp()
            if comment is None:
                if len(record.comments) >= MAX_COMMENTS:
                    raise ArmError(
                        400, "BadRequest", f"An incident holds at most {MAX_COMMENTS} comments."
                    )
                resource_id = f"{record.resource['id']}/comments/{comment_id}"
                comment = new_comment(resource_id, comment_id, message, now, author)
                record.comments[comment_id.lower()] = comment
                created = True
            else:
                comment["properties"]["message"] = message
                comment["properties"]["lastModifiedTimeUtc"] = now
                comment["etag"] = str(uuid.uuid4())
                created = False
            self._refresh_counts(record)
            if self.comments_bump_incident:
                record.resource["properties"]["lastModifiedTimeUtc"] = self.stamp()
                record.resource["etag"] = new_etag()
            return copy.deepcopy(comment), created

    def comments(self, incident_id: str) -> list[dict[str, Any]]:
        """The comments of one incident, oldest first (copies)."""
        with self.lock:
            return copy.deepcopy(list(self._record(incident_id).comments.values()))

    def alerts(self, incident_id: str) -> list[dict[str, Any]]:
        """The seeded alerts of one incident (copies)."""
        with self.lock:
            return copy.deepcopy(self._record(incident_id).alerts)

    def entities(self, incident_id: str) -> list[dict[str, Any]]:
        """The seeded entities of one incident (copies)."""
        with self.lock:
            return copy.deepcopy(self._record(incident_id).entities)

    def clear(self) -> None:
        """Forget every incident; numbering starts again at 1."""
        with self.lock:
            self._records.clear()
            self._next_number = 1
