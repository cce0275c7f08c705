"""The rows behind an incident's alerts: queries built, answers bounded, failures summarized."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.config.search import SearchSettings, parse_search_settings, query_audience
from shared.errors import UpstreamUnavailable
from shared.incidents.domain.augment import Augmentation
from shared.incidents.domain.payloads import search_summary
from shared.incidents.domain.search import (
    QueryTable,
    alert_queries,
    bounded,
    capped,
    lookup_query,
    lookup_window,
)
from shared.incidents.search_results import NO_ID, NO_QUERY, TIMED_OUT, AlertSearch

NOW = datetime.now(UTC).replace(microsecond=0)
RULE_QUERY = 'FigEvents_CL | where EventType == "SecurityEvent" and Success == false'


def _properties(query: str = RULE_QUERY, *, original: str | None = None) -> str:
    start = NOW - timedelta(hours=1)
    found: dict[str, str] = {
        "Query": query,
        "Query Start Time UTC": start.strftime("%Y-%m-%d %H:%M:%SZ"),
        "Query End Time UTC": NOW.strftime("%Y-%m-%d %H:%M:%SZ"),
    }
    if original is not None:
        found["OriginalQuery"] = original
    return json.dumps(found)


def _lookup(*rows: tuple[str, str, str]) -> QueryTable:
    return QueryTable(("SystemAlertId", "ExtendedProperties", "TimeGenerated"), tuple(rows))


class RecordingReader:
    """A LogsReader answering from a function of the query text; records every query."""

    def __init__(self, lookup: QueryTable, rows: Mapping[str, QueryTable]) -> None:
        self.lookup = lookup
        self.rows = rows
        self.asked: list[tuple[str, datetime, datetime]] = []
        self.delay = 0.0
        self.failing: set[str] = set()

    async def query(self, text: str, *, start: datetime, end: datetime) -> QueryTable:
        self.asked.append((text, start, end))
        if text.startswith("SecurityAlert"):
            return self.lookup
        await asyncio.sleep(self.delay)
        for marker, table in self.rows.items():
            if marker in text:
                if marker in self.failing:
                    raise UpstreamUnavailable("Log Analytics answered 400 (BadArgumentError)")
                return table
        return QueryTable(("x",), ())


def test_the_lookup_lists_plain_ids_only() -> None:
    """Ids that are not plain identifiers are left out instead of being quoted into KQL."""
    text = lookup_query(["b-1", 'a"; drop', "a-2", "b-1"], limit=200)
    assert text is not None
    assert 'in ("a-2", "b-1")' in text
    assert "drop" not in text
    assert text.endswith("| take 200")
    assert lookup_query(['"'], limit=1) is None


def test_each_alert_gets_its_newest_query_and_window() -> None:
    """OriginalQuery wins over Query, the newest row per alert wins, bad rows are skipped."""
    table = _lookup(
        ("a", _properties("Old"), "2020-01-01T00:00:00Z"),
        ("a", _properties("Q", original="Original"), "2020-01-02T00:00:00Z"),
        ("b", "not json", "2020-01-02T00:00:00Z"),
        ("c", json.dumps({"Query": "X"}), "2020-01-02T00:00:00Z"),
    )
    found = alert_queries(table)
    assert set(found) == {"a"}
    assert found["a"].text == "Original"
    assert found["a"].end - found["a"].start == timedelta(hours=1)


def test_a_window_that_ends_before_it_starts_is_no_window() -> None:
    """A reversed window would make the service refuse the query: the alert is skipped."""
    reversed_window = json.dumps(
        {
            "Query": "T",
            "Query Start Time UTC": "2024-01-02T00:00:00Z",
            "Query End Time UTC": "2024-01-01T00:00:00Z",
        }
    )
    assert alert_queries(_lookup(("a", reversed_window, ""))) == {}


def test_the_row_cap_survives_a_trailing_semicolon_and_comment() -> None:
    """The cap asks for one row more than kept, so a cut shows."""
    assert capped("T | where x == 1;  \n", 10) == "T | where x == 1\n| take 11"
    assert capped("T // note", 5) == "T // note\n| take 6"


def test_rows_are_bounded_by_count_and_bytes() -> None:
    """What does not fit is counted; datetimes become ISO text."""
    rows = tuple((i, NOW) for i in range(11))
    table = QueryTable(("n", "at"), rows)
    kept = bounded(table, rows=10, max_bytes=100_000)
    assert len(kept["rows"]) == 10
    assert kept["omitted"] == 1
    assert kept["complete"] is False
    assert kept["rows"][0] == {"n": 0, "at": NOW.isoformat()}
    small = bounded(table, rows=10, max_bytes=120)
    assert 0 < len(small["rows"]) < 10
    assert len(json.dumps(small["rows"])) <= 120
    whole = bounded(QueryTable(("n",), ((1,),)), rows=10, max_bytes=1000)
    assert whole == {"columns": ["n"], "rows": [{"n": 1}], "omitted": 0, "complete": True}


def test_the_lookup_window_reaches_back_from_the_earliest_alert() -> None:
    """Two days before the first alert's start, up to now."""
    start = NOW - timedelta(hours=5)
    alerts: list[dict[str, Any]] = [{"startTime": start.isoformat()}, {"startTime": None}]
    assert lookup_window(alerts, NOW) == (start - timedelta(days=2), NOW)
    assert lookup_window([], NOW)[0] == NOW - timedelta(days=3)


def _extra(*ids: str | None) -> Augmentation:
    return Augmentation(alerts=tuple({"id": i, "name": f"alert {i}"} for i in ids))


def _search(reader: RecordingReader, **changes: float) -> AlertSearch:
    settings = SearchSettings(enabled=True, max_rows=2, max_bytes=4096, timeout_seconds=5)
    for name, value in changes.items():
        settings = SearchSettings(**{**settings.__dict__, name: value})
    return AlertSearch(reader, settings)


def test_rows_land_on_their_alerts_and_others_say_why_not() -> None:
    """A scheduled rule's alert gets its rows; one without a query or id gets a reason."""
    reader = RecordingReader(
        _lookup(("a", _properties(), "")),
        {"FigEvents_CL": QueryTable(("UserName",), (("alice",), ("bob",), ("carol",)))},
    )
    extra = asyncio.run(_search(reader).attach(_extra("a", "b", None), NOW))
    first, second, third = (alert["searchResults"] for alert in extra.alerts)
    assert first["rows"] == [{"UserName": "alice"}, {"UserName": "bob"}]
    assert first["complete"] is False
    assert second["unavailable"] == NO_QUERY
    assert third["unavailable"] == NO_ID
    text, start, end = reader.asked[1]
    assert text.endswith("| take 3")
    assert end - start == timedelta(hours=1)


def test_a_failing_query_is_summarized_and_the_rest_still_arrive() -> None:
    """One alert's query refused: that alert carries the reason, the other its rows."""
    both = _lookup(("a", _properties("A_CL"), ""), ("b", _properties("B_CL"), ""))
    reader = RecordingReader(
        both, {"A_CL": QueryTable(("n",), ((1,),)), "B_CL": QueryTable(("n",), ((2,),))}
    )
    reader.failing.add("A_CL")
    extra = asyncio.run(_search(reader).attach(_extra("a", "b"), NOW))
    failed, ok = (alert["searchResults"] for alert in extra.alerts)
    assert "400" in failed["unavailable"]
    assert ok["rows"] == [{"n": 2}]


def test_a_slow_workspace_is_cut_at_the_timeout() -> None:
    """Queries still running at the timeout leave their alert with 'timed out'."""
    reader = RecordingReader(
        _lookup(("a", _properties(), "")), {"FigEvents_CL": QueryTable(("n",), ((1,),))}
    )
    reader.delay = 5
    extra = asyncio.run(_search(reader, timeout_seconds=0.05).attach(_extra("a"), NOW))
    assert extra.alerts[0]["searchResults"]["unavailable"] == TIMED_OUT


def test_a_failed_lookup_leaves_every_alert_with_the_reason() -> None:
    """The SecurityAlert lookup itself refused: nothing fails, each alert says why."""

    class Refusing(RecordingReader):
        async def query(self, text: str, *, start: datetime, end: datetime) -> QueryTable:
            raise UpstreamUnavailable("Log Analytics answered 403 (InsufficientAccessError)")

    reader = Refusing(_lookup(), {})
    extra = asyncio.run(_search(reader).attach(_extra("a"), NOW))
    assert "403" in extra.alerts[0]["searchResults"]["unavailable"]


def test_no_alerts_means_no_queries() -> None:
    """An incident without alerts costs no query."""
    reader = RecordingReader(_lookup(), {})
    assert asyncio.run(_search(reader).attach(Augmentation(), NOW)) == Augmentation()
    assert reader.asked == []


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"INCIDENT_SEARCH_RESULTS": "maybe"}, "INCIDENT_SEARCH_RESULTS"),
        ({"INCIDENT_SEARCH_MAX_ROWS": "0"}, "INCIDENT_SEARCH_MAX_ROWS"),
        ({"INCIDENT_SEARCH_MAX_BYTES": "1e9"}, "INCIDENT_SEARCH_MAX_BYTES"),
        ({"INCIDENT_SEARCH_TIMEOUT_SECONDS": "nan"}, "INCIDENT_SEARCH_TIMEOUT_SECONDS"),
        ({"LOG_ANALYTICS_ENDPOINT": "http://api.loganalytics.io"}, "LOG_ANALYTICS_ENDPOINT"),
    ],
)
def test_bad_search_settings_are_named(changes: dict[str, str], problem: str) -> None:
    """Each bad setting is reported by name."""
    values = {
        "INCIDENT_SEARCH_RESULTS": "true",
        "INCIDENT_SEARCH_MAX_ROWS": "10",
        "INCIDENT_SEARCH_MAX_BYTES": "8192",
        "INCIDENT_SEARCH_TIMEOUT_SECONDS": "10",
        "LOG_ANALYTICS_ENDPOINT": "https://api.loganalytics.io",
    } | changes
    _, problems = parse_search_settings(values.__getitem__)
    assert [p.split()[0] for p in problems] == [problem]


def test_sovereign_endpoints_are_their_own_audience() -> None:
    """api.loganalytics.us is its own audience; an emulator uses the public one."""
    assert query_audience("https://api.loganalytics.us/") == "https://api.loganalytics.us"
    assert query_audience("https://127.0.0.1:8443") == "https://api.loganalytics.io"


def test_signl4_gets_the_rows_as_one_line() -> None:
    """Rows as key=value text, a cut marked, an unavailable alert with its reason."""
    alerts = (
        {
            "name": "Brute force",
            "searchResults": bounded(
                QueryTable(("UserName",), (("alice",), ("bob",))), rows=1, max_bytes=1000
            ),
        },
        {"name": "Defender alert", "searchResults": {"rows": [], "unavailable": NO_QUERY}},
        {"name": "No search"},
    )
    line = search_summary(alerts)
    assert line.startswith("Brute force: 1 rows (more not shown): UserName=alice | ")
    assert f"Defender alert: no rows ({NO_QUERY})" in line
    assert "No search" not in line
