"""Wallarm's notifications to WallarmEvents_CL rows: every type, array and NDJSON, bad bodies."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.errors import (
    MalformedPayload,
    PayloadTooLarge,
    UnknownEventType,
    UnsupportedMediaType,
)
from shared.inbound.request import InboundRequest
from shared.sources import wallarm
from shared.sources.base import Parsed
from tests.payloads import parsed, raw

RECEIVED = datetime(2023, 12, 25, 16, 0, tzinfo=UTC)  # shortly after the reference hits
REFERENCE = {  # notification_type -> reference file
    "new_hits": "wallarm_hit.json",
    "security_issue": "wallarm_security_issue.json",
    "ip_blocked": "wallarm_ip_blocked_trigger.json",
    "create_user": "wallarm_create_user_envelope.json",
}
# Every type Wallarm's Sentinel doc lists, plus integration_broken.
ALL_TYPES = sorted(wallarm.TYPE_SEVERITY)

SOURCE = wallarm.WallarmSource(token_header="x-auth-token", token_name="wallarm-token")


def notification(kind: str) -> dict[str, Any]:
    """The reference notification for ``kind``, or Wallarm's envelope around it (constructed)."""
    if kind in REFERENCE:
        first: dict[str, Any] = parsed(REFERENCE[kind])[0]
        return first
    return {
        "summary": f"[Wallarm] Trigger: {kind}",
        "description": f"Notification type: {kind}\n\nClient: TestCompany\nCloud: EU\n",
        "details": {"client_name": "TestCompany", "cloud": "EU", "notification_type": kind},
    }


def as_array(items: list[Any]) -> bytes:
    return json.dumps(items, indent=2).encode()


def as_ndjson(items: list[Any]) -> bytes:
    return b"\n".join(json.dumps(item).encode() for item in items) + b"\n"


def parse(body: bytes, **headers: str) -> Parsed:
    request = InboundRequest("POST", headers, body, RECEIVED)
    return SOURCE.parse("", request)


@pytest.mark.parametrize("encode", [as_array, as_ndjson], ids=["array", "ndjson"])
@pytest.mark.parametrize("kind", ALL_TYPES)
def test_every_notification_type_in_both_formats(kind: str, encode: Any) -> None:
    """Each type gives one valid row, the same from a JSON array and from NDJSON."""
    [row] = parse(encode([notification(kind)])).rows
    assert row["EventType"] == kind
    assert row["Vendor"] == "Wallarm"
    assert row["ClientName"] in {"TestCompany", "Test Company"}
    assert row["Severity"] in {"Informational", "Low", "Medium", "High"}
    assert row["RawData"] == notification(kind)
    assert wallarm.table().shape_row(row) == row


def test_array_and_ndjson_reference_files_give_the_same_rows() -> None:
    """wallarm_hit.json and wallarm_hit.ndjson are the same two hits, the same two rows."""
    array, ndjson = parse(raw("wallarm_hit.json")), parse(raw("wallarm_hit.ndjson"))
    assert len(array.rows) == 2
    assert array.rows == ndjson.rows
    assert not array.test


def test_hit_columns_and_epoch_time() -> None:
    """A hit: request id, IPv4, host+path, and request_time (Unix seconds) as its time."""
    row = parse(raw("wallarm_hit.json")).rows[0]
    assert row["RequestId"] == "xxxxxxxxxxxxxxxx"
    assert row["RemoteAddr"] == "8.8.8.8"
    assert row["Url"] == "example.com/"
    assert row["EventTime"] == row["TimeGenerated"] == "2023-12-25T15:57:03Z"
    assert row["ReceivedTime"] == "2023-12-25T16:00:00Z"
    assert row["Severity"] == "Medium"
    assert row["Summary"] == "[Wallarm] New hit detected"


def test_legacy_hit_uses_domain_and_skips_an_empty_ipv6() -> None:
    """Wallarm 4.x sends domain instead of host and an empty remote_addr6."""
    row = parse(raw("wallarm_hit_legacy_domain.json")).rows[0]
    assert row["Url"] == "www.example.com/news/some_path"
    assert row["RemoteAddr"] == "8.8.8.8"
    assert row["EventTime"] == "2020-10-27T21:36:46Z"
    assert row["TimeGenerated"] == row["ReceivedTime"]  # years old: the receive time


def test_security_issue_takes_its_risk_and_link() -> None:
    """Risk Medium -> Medium; the Console link is the Url."""
    row = parse(raw("wallarm_security_issue.json")).rows[0]
    assert (row["Severity"], row["Url"]) == ("Medium", "https://us1.my.wallarm.com/object/555")
    assert "EventTime" not in row
    assert row["TimeGenerated"] == row["ReceivedTime"]


@pytest.mark.parametrize(
    ("risk", "severity"),
    [("Critical", "High"), ("high", "High"), ("Low", "Low"), ("Info", "Informational")],
)
def test_risk_decides_severity(risk: str, severity: str) -> None:
    """Security issues are as severe as their risk says."""
    item = parsed("wallarm_security_issue.json")[0]
    item["details"]["security_issue"]["risk"] = risk
    assert parse(as_array([item])).rows[0]["Severity"] == severity


def test_denylisted_ip_fills_remote_addr() -> None:
    """ip_blocked's details.ip is the RemoteAddr."""
    row = parse(raw("wallarm_ip_blocked_trigger.json")).rows[0]
    assert (row["EventType"], row["RemoteAddr"]) == ("ip_blocked", "1.1.1.1")


def test_test_integration_writes_one_row_marked_as_a_test() -> None:
    """A batch of [Test message] notifications: exactly one row, IsTest true."""
    test = parsed("wallarm_vuln_test_message.json")[0]
    result = parse(as_array([test, test]))
    assert (result.test, result.test_rows, len(result.rows)) == (False, True, 1)
    assert result.rows[0]["IsTest"] is True
    assert result.rows[0]["Severity"] == "Medium"  # vuln threat Medium, still validated


def test_real_rows_are_not_tests() -> None:
    """IsTest is false on every real notification's row."""
    assert parse(as_array([notification("ip_blocked")])).rows[0]["IsTest"] is False


def test_a_test_message_among_real_ones_is_dropped() -> None:
    """Only the real notifications of a mixed batch are forwarded."""
    items = [parsed("wallarm_vuln_test_message.json")[0], notification("ip_blocked")]
    result = parse(as_array(items))
    assert not result.test
    assert not result.test_rows
    assert [row["EventType"] for row in result.rows] == ["ip_blocked"]


def test_unknown_types_are_kept_as_informational() -> None:
    """A type Wallarm adds later is forwarded, not refused."""
    assert parse(as_array([notification("hourly_report")])).rows[0]["Severity"] == "Informational"


def test_event_id_is_stable_and_content_sensitive() -> None:
    """The same notification redelivered later has the same EventId; another one does not."""
    first = parse(raw("wallarm_hit.json")).rows
    later = SOURCE.parse(
        "", InboundRequest("PUT", {}, raw("wallarm_hit.ndjson"), RECEIVED + timedelta(hours=2))
    ).rows
    assert [r["EventId"] for r in first] == [r["EventId"] for r in later]
    assert first[0]["EventId"] != first[1]["EventId"]


def test_ndjson_bad_line_rejects_the_whole_batch_with_its_number() -> None:
    """Line 3 is not JSON: 400 naming line 3, and no row from lines 1-2."""
    lines = raw("wallarm_hit.ndjson").splitlines()
    body = b"\n".join([lines[0], lines[1], b'{"summary": "cut', b""])
    with pytest.raises(MalformedPayload, match="line 3"):
        parse(body)


def test_ndjson_tolerates_crlf_blank_lines_and_a_bom() -> None:
    """Windows line ends, blank lines and a UTF-8 BOM are not errors."""
    lines = raw("wallarm_hit.ndjson").splitlines()
    body = b"\xef\xbb\xbf" + lines[0] + b"\r\n\r\n" + lines[1] + b"\r\n"
    assert len(parse(body).rows) == 2


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"", "empty"),
        (b"  \n ", "empty"),
        (b"[1, 2", "not valid JSON"),
        (b"[1]", "item 1"),
        (b'[{"summary": "x"}]', "notification_type"),
        (b'[{"details": {"notification_type": 5}}]', "notification_type"),
        (b'{"details": {"notification_type": "new_hits"}}\n[]', "line 2"),
        (
            b'[{"details": {"notification_type": "new_hits", "hit": {"request_time": "soon"}}}]',
            "request_time",
        ),
        (
            b'[{"details": {"notification_type": "new_hits", "hit": {"request_time": 1e300}}}]',
            "range",
        ),
        (b'[{"details": {"notification_type": "ip_blocked", "ip": 7}}]', "details.ip"),
        (b'[{"summary": ["x"], "details": {"notification_type": "vuln"}}]', "summary"),
    ],
)
def test_malformed_bodies_are_400_naming_where(body: bytes, fragment: str) -> None:
    """Not JSON, not notifications, or a field of the wrong kind: 400 saying where."""
    with pytest.raises(MalformedPayload, match=fragment):
        parse(body)


def test_an_empty_array_has_no_rows() -> None:
    """[] is answered 200 with nothing sent (intake: no rows)."""
    assert parse(b"[]").rows == []


@pytest.mark.parametrize("content_type", ["application/json", "application/x-ndjson", "text/plain"])
def test_json_like_content_types_are_accepted(content_type: str) -> None:
    """Declared JSON, NDJSON or plain text is fine: the body decides."""
    assert parse(raw("wallarm_hit.json"), **{"content-type": content_type}).rows


@pytest.mark.parametrize("content_type", ["application/xml", "multipart/form-data; boundary=x"])
def test_plainly_wrong_content_types_are_415(content_type: str) -> None:
    """XML or a multipart form cannot be Wallarm's JSON."""
    with pytest.raises(UnsupportedMediaType):
        parse(raw("wallarm_hit.json"), **{"content-type": content_type})


def test_only_the_bare_route_exists() -> None:
    """/api/wallarm has no sub-routes."""
    wallarm.ROUTE.check_route("")
    with pytest.raises(UnknownEventType):
        wallarm.ROUTE.check_route("hits")


@pytest.mark.parametrize("array", [True, False])
def test_more_notifications_than_the_cap_are_413_before_parsing(array: bool) -> None:
    """Over MAX_ROWS_PER_REQUEST (as NDJSON lines or array items): 413, nothing ingested."""
    capped = wallarm.WallarmSource(token_header="x-auth-token", token_name="t", max_items=3)
    hits = [b'{"details": {"notification_type": "new_hits"}}'] * 4
    body = b"[" + b",".join(hits) + b"]" if array else b"\n".join(hits)
    request = InboundRequest("POST", {}, body, RECEIVED)
    with pytest.raises(PayloadTooLarge):
        capped.parse("", request)
