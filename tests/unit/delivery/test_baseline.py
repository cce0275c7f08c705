"""The SDK's default chunking, reproduced for benchmarks, checked against the SDK itself."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.delivery import sdk_default_chunks, sdk_default_stats
from shared.delivery.baseline import sdk_default_body
from tests.unit.delivery.strategies import gunzip_member, rows

pytestmark = pytest.mark.disable_socket


def test_documented_example_25_records_of_100_kb() -> None:
    """25 records of 100 KB become chunks of 10, 10 and 5 (reference, section 6)."""
    records = [{"a": "x" * (100_000 - 9)} for _ in range(25)]
    assert all(len(json.dumps(r)) == 100_000 for r in records)
    assert [len(c) for c in sdk_default_chunks(records)] == [10, 10, 5]


def test_record_over_the_limit_is_a_chunk_of_its_own() -> None:
    """A record over 1 MiB is sent alone, between its neighbours' chunks."""
    big = {"a": "x" * 1_100_000}
    assert sdk_default_chunks([{"b": 1}, big, {"b": 2}]) == [[{"b": 1}], [big], [{"b": 2}]]


@settings(max_examples=40)
@given(records=st.lists(rows, max_size=15), limit=st.integers(1, 3_000))
def test_chunks_keep_order_and_respect_the_uncompressed_limit(
    records: list[dict[str, Any]], limit: int
) -> None:
    """Chunks concatenate to the input; each is within the limit unless it is one record."""
    chunks = sdk_default_chunks(records, max_chunk_bytes=limit)
    assert [r for chunk in chunks for r in chunk] == records
    for chunk in chunks:
        size = sum(len(json.dumps(r).encode("utf-8")) for r in chunk)
        assert size <= limit or len(chunk) == 1


@settings(max_examples=40)
@given(records=st.lists(rows, max_size=15), limit=st.integers(1, 3_000))
def test_matches_the_installed_sdk(records: list[dict[str, Any]], limit: int) -> None:
    """Same chunks as azure-monitor-ingestion's own splitter, byte for byte the same gzip."""
    helpers = pytest.importorskip("azure.monitor.ingestion._helpers")
    assert sdk_default_chunks(records, max_chunk_bytes=limit) == list(
        helpers._split_chunks(records, max_size_bytes=limit)
    )
    sdk_bodies = [body for body, _ in helpers._create_gzip_requests(records)]
    assert [sdk_default_body(c) for c in sdk_default_chunks(records)] == sdk_bodies


def test_stats_count_requests_and_bytes() -> None:
    """Stats add up the chunks: one request each, gzip and raw sizes summed."""
    records: list[dict[str, Any]] = [{"a": "x" * 600_000}, {"a": "y" * 600_000}, {"b": 1}]
    stats = sdk_default_stats(records)
    chunks = sdk_default_chunks(records)
    assert stats.requests == len(chunks) == 2
    assert stats.rows == 3
    assert stats.raw_bytes == sum(len(json.dumps(c)) for c in chunks)
    assert stats.wire_bytes == sum(len(sdk_default_body(c)) for c in chunks)
    assert json.loads(gunzip_member(sdk_default_body(chunks[1]))) == chunks[1]
