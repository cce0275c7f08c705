"""What the poller lists, how its watermark moves, and what it does with each incident."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from shared.config.incidents import IncidentSettings
from shared.incidents.model import Incident
from shared.incidents.query import OVERLAP, list_filter, list_since, next_watermark, sweep_due
from shared.incidents.state import Action, decide, expired, first_record, pending_record

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SETTINGS = IncidentSettings(subscription_id="s", resource_group="g", workspace_name="w")


def incident(
    modified: str = "2026-11-23T11:00:00.1234567Z", etag: str = '"e1"', **props: Any
) -> Incident:
    properties = {
        "title": "t",
        "severity": "High",
        "status": "New",
        "createdTimeUtc": "2026-11-23T10:00:00Z",
        "lastModifiedTimeUtc": modified,
        "labels": [],
        **props,
    }
    return Incident.of({"name": "abc", "etag": etag, "properties": properties})


def test_the_first_poll_reads_the_whole_window() -> None:
    """No watermark: 24 h back; later: the watermark minus the overlap."""
    assert list_since(NOW, None, timedelta(hours=24)) == NOW - timedelta(hours=24)
    watermark = NOW - timedelta(minutes=5)
    assert list_since(NOW, watermark, timedelta(hours=24)) == watermark - OVERLAP
    assert list_since(NOW, watermark, timedelta(hours=24), sweep=True) == NOW - timedelta(hours=24)


def test_the_filter_uses_z_never_an_offset() -> None:
    """'+00:00' would become a space in an unescaped nextLink."""
    text = list_filter(NOW)
    assert text == "properties/lastModifiedTimeUtc ge 2026-11-23T12:00:00.000000Z"


def test_the_watermark_takes_the_newest_seen_capped_by_server_time() -> None:
    """Newest lastModified, never past the first page's Date, never backwards."""
    seen = [NOW - timedelta(minutes=3), NOW]
    assert next_watermark(None, seen, server_time=None, unstable=False) == NOW
    capped = next_watermark(None, seen, server_time=NOW - timedelta(minutes=1), unstable=False)
    assert capped == NOW - timedelta(minutes=1)
    assert next_watermark(NOW, [NOW - timedelta(hours=1)], server_time=None, unstable=False) == NOW


def test_an_unstable_listing_holds_the_watermark() -> None:
    """An incident listed twice in one poll: the watermark stays where it was."""
    assert next_watermark(None, [NOW], server_time=None, unstable=True) is None


def test_sweeps_are_hourly() -> None:
    """A sweep is due without a last sweep, or an hour after it."""
    assert sweep_due(NOW, None)
    assert not sweep_due(NOW, NOW - timedelta(minutes=59))
    assert sweep_due(NOW, NOW - timedelta(hours=1))


def test_decisions() -> None:
    """New match: create; same version: seen; own etag or same content: echo; else update."""
    listed = incident()
    assert decide(listed, None, SETTINGS, NOW) is Action.CREATE
    assert decide(incident(status="Active"), None, SETTINGS, NOW) is Action.IGNORE
    record = first_record(listed)
    assert decide(listed, record, SETTINGS, NOW) is Action.SEEN
    relabelled = incident("2026-11-23T11:05:00Z", '"e2"', labels=[{"labelName": "x"}])
    assert decide(relabelled, record, SETTINGS, NOW) is Action.ECHO
    closed = incident("2026-11-23T11:06:00Z", '"e3"', status="Closed")
    assert decide(closed, record, SETTINGS, NOW) is Action.UPDATE
    own = record.with_own_write(closed)
    later = incident("2026-11-23T11:07:00Z", '"e3"', status="Closed")
    assert decide(later, own, SETTINGS, NOW) is Action.ECHO


def test_a_first_forward_that_never_finished_is_done_again() -> None:
    """A pending record (stored before the send) decides like no record; handling it ends
    the pending state."""
    listed = incident()
    pending = pending_record(listed, ("SIGNL4",))
    assert not pending.sent
    assert decide(listed, pending, SETTINGS, NOW) is Action.CREATE
    assert decide(incident(status="Active"), pending, SETTINGS, NOW) is Action.IGNORE
    done = pending.handled(listed)
    assert done.sent
    assert done.destinations == ("SIGNL4",)
    assert decide(listed, done, SETTINGS, NOW) is Action.SEEN


def test_filters_on_status_severity_age_and_label() -> None:
    """Each filter alone keeps an incident out."""
    strict = IncidentSettings(
        subscription_id="s",
        resource_group="g",
        workspace_name="w",
        severities=frozenset({"High"}),
        label="soc",
        max_age=timedelta(hours=1),
    )
    tagged = [{"labelName": "soc"}]
    assert decide(incident(labels=tagged), None, strict, NOW) is Action.IGNORE  # too old
    young: dict[str, Any] = {"createdTimeUtc": "2026-11-23T11:30:00Z", "labels": tagged}
    assert decide(incident(**young), None, strict, NOW) is Action.CREATE
    assert decide(incident(**young, severity="Low"), None, strict, NOW) is Action.IGNORE
    assert decide(incident(createdTimeUtc=young["createdTimeUtc"]), None, strict, NOW) is (
        Action.IGNORE
    )


def test_closed_records_are_forgotten_after_thirty_days() -> None:
    """Open records stay; closed ones go once untouched for 30 days."""
    closed = first_record(incident(status="Closed"))
    assert not expired(closed, NOW + timedelta(days=29))
    assert expired(closed, NOW + timedelta(days=31))
    assert not expired(first_record(incident()), NOW + timedelta(days=365))
