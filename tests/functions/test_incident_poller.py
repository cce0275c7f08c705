"""The incident poller over the Sentinel emulator, SIGNL4 stand-in, Key Vault and Azurite."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from local.emulators.stack import EmulatorStack
from shared.incidents.domain.state import Forwarded
from shared.incidents.forward import Forwarder
from tests import logscan
from tests.functions.incident_support import (
    labels,
    received,
    run_poll,
    seed,
)


def test_the_first_poll_forwards_new_incidents_of_the_window_and_tags_them(
    emulators: EmulatorStack, forwarder: Forwarder
) -> None:
    """New incidents of the last 24 h go to SIGNL4 once each, tagged SIGNL4; others stay."""
    fresh = seed(emulators, title="Suspicious sign-in", severity="High")
    seed(emulators, title="already active", status="Active")
    old = (datetime.now(UTC) - timedelta(hours=30)).isoformat()
    seed(emulators, title="too old", createdTimeUtc=old, lastModifiedTimeUtc=old)
    result = run_poll(forwarder)
    assert result.complete
    bodies = received(emulators)
    assert [b["X-S4-ExternalID"] for b in bodies] == [fresh["name"]]
    assert bodies[0]["X-S4-Status"] == "new"
    assert bodies[0]["Title"].endswith("Suspicious sign-in")
    assert bodies[0]["Link"] == fresh["properties"]["incidentUrl"]
    assert bodies[0]["Accounts"] == "domain\\administrator"
    assert labels(emulators, fresh["name"]) == ["SIGNL4"]


def test_a_second_poll_sends_nothing_again_and_ignores_the_bridges_own_tag(
    emulators: EmulatorStack, forwarder: Forwarder
) -> None:
    """The tag's new version comes back in the overlap, known as the bridge's own: not re-sent."""
    seed(emulators, title="one")
    run_poll(forwarder)
    again = run_poll(forwarder)
    assert again.complete
    assert again.actions == {"seen": 1}
    assert len(received(emulators)) == 1


def test_an_idle_poll_is_one_arm_call(emulators: EmulatorStack, forwarder: Forwarder) -> None:
    """With nothing listed, a poll costs one list call."""
    run_poll(forwarder, sweep=False)
    before = emulators.sentinel.calls()
    run_poll(forwarder, sweep=False)
    assert emulators.sentinel.calls() - before == 1


class EditingApi:
    """The real Sentinel adapter, with an analyst's edit slipped in at a chosen moment."""

    def __init__(self, api: Any, edit: Callable[[], object], *, before: str) -> None:
        self._api = api
        self._edit: Callable[[], object] | None = edit
        self._before = before

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._api, name)
        if name != self._before:
            return method

        async def edited(*args: Any, **kwargs: Any) -> Any:
            if self._edit is not None and (name != "list_page" or kwargs.get("next_link")):
                edit, self._edit = self._edit, None
                edit()
            return await method(*args, **kwargs)

        return edited


def test_an_analysts_close_reaches_signl4_as_resolved(
    emulators: EmulatorStack, forwarder: Forwarder
) -> None:
    """Closing a forwarded incident in Sentinel sends X-S4-Status resolved, once."""
    incident = seed(emulators, title="to close")
    run_poll(forwarder)
    emulators.sentinel.update_incident(
        incident["name"], status="Closed", classification="FalsePositive"
    )
    run_poll(forwarder)
    run_poll(forwarder)
    statuses = [b["X-S4-Status"] for b in received(emulators)]
    assert statuses == ["new", "resolved"]


def test_an_update_that_signl4_does_not_track_is_not_sent(
    emulators: EmulatorStack, forwarder: Forwarder
) -> None:
    """A title edit changes nothing SIGNL4 shows: no second alert."""
    incident = seed(emulators, title="before")
    run_poll(forwarder)
    emulators.sentinel.update_incident(incident["name"], title="after")
    result = run_poll(forwarder)
    assert result.actions == {"update": 1}
    assert len(received(emulators)) == 1


def test_nothing_is_missed_when_updates_land_during_paging(
    emulators: EmulatorStack, forwarder: Forwarder
) -> None:
    """Offset paging shifts under an edit; the repeat holds the watermark, the next poll
    lists again, and every incident reaches SIGNL4 exactly once."""
    emulators.sentinel.pager.mode = "offset"
    seeded = [seed(emulators, title=f"t{n}") for n in range(5)]
    first = seeded[0]["name"]
    api = EditingApi(
        forwarder.api,
        lambda: emulators.sentinel.update_incident(first, description="edited"),
        before="list_page",
    )
    result = run_poll(replace(forwarder, api=api), page_size=2)
    again = run_poll(forwarder, page_size=2)
    names = sorted(b["X-S4-ExternalID"] for b in received(emulators))
    assert names == sorted(i["name"] for i in seeded)
    assert result.watermark is None
    assert again.complete


def test_a_severity_raised_later_is_forwarded(
    emulators: EmulatorStack, forwarder: Forwarder
) -> None:
    """With INCIDENT_SEVERITIES=High a Low incident waits; raised to High it is sent."""
    settings = replace(forwarder.settings, severities=frozenset({"High"}))
    only_high = replace(forwarder, settings=settings)
    incident = seed(emulators, title="creeping", severity="Low")
    run_poll(only_high)
    assert received(emulators) == []
    emulators.sentinel.update_incident(incident["name"], severity="High")
    run_poll(only_high)
    assert [b["Severity"] for b in received(emulators)] == ["High"]


def test_the_sweep_catches_what_the_watermark_missed(
    emulators: EmulatorStack, forwarder: Forwarder
) -> None:
    """An incident whose lastModified lies behind the watermark is found by the sweep."""
    run_poll(forwarder)
    seed(emulators, title="idle")
    run_poll(forwarder)  # the watermark moves to now
    late = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    hidden = seed(emulators, title="late", createdTimeUtc=late, lastModifiedTimeUtc=late)
    assert run_poll(forwarder, sweep=False).actions.get("create") is None
    swept = run_poll(forwarder, sweep=True)
    assert swept.actions.get("create") == 1
    assert received(emulators)[-1]["X-S4-ExternalID"] == hidden["name"]


def test_a_stale_etag_is_merged_and_nobody_loses_a_label_or_the_owner(
    emulators: EmulatorStack, forwarder: Forwarder
) -> None:
    """An analyst edits between list and tag: 409, re-read, merge: both labels, owner kept."""
    incident = seed(emulators, title="contested", labels=["Fig"])
    name = incident["name"]
    owner = {"objectId": "2046feea-040d-4a46-9e2b-91c2941bfa70", "assignedTo": "john doe"}
    api = EditingApi(
        forwarder.api,
        lambda: emulators.sentinel.update_incident(name, labels=["Fig", "triage"], owner=owner),
        before="put",
    )
    run_poll(replace(forwarder, api=api))
    stored = next(i for i in emulators.sentinel.incidents() if i["name"] == name)
    assert [label["labelName"] for label in stored["properties"]["labels"]] == [
        "Fig",
        "triage",
        "SIGNL4",
    ]
    assert stored["properties"]["owner"]["assignedTo"] == "john doe"
    assert emulators.sentinel.calls("put") == 2


def test_the_team_secret_never_reaches_a_log(
    emulators: EmulatorStack, forwarder: Forwarder
) -> None:
    """Every SDK logger at DEBUG, a delivery made: no record holds the secret URL path."""
    seed(emulators, title="quiet")
    before = len(logscan.HANDLER.texts())
    run_poll(forwarder)
    assert len(received(emulators)) == 1
    texts = logscan.HANDLER.texts()[before:]
    assert any("urllib3" in text for text in texts)  # the SDKs did log their requests
    assert not [t for t in texts if emulators.signl4.team_secret in t]


def test_a_sweep_forgets_incidents_closed_long_ago(
    emulators: EmulatorStack, forwarder: Forwarder
) -> None:
    """A record closed 31 days ago is deleted by the sweep; an open one stays."""
    old = Forwarded("old", "2020-01-01T00:00:00Z", "f", "Closed", ("SIGNL4",))
    kept = Forwarded("open", "2020-01-01T00:00:00Z", "f", "New", ("SIGNL4",))
    for record in (old, kept):
        asyncio.run(forwarder.state.save_forwarded(record))
    run_poll(forwarder, sweep=True)
    assert set(asyncio.run(forwarder.state.all_forwarded())) == {"open"}
