"""Listing incidents through azure-mgmt-securityinsight 1.0.0: filters, order, paging."""

from __future__ import annotations

from typing import Any, cast

import pytest
from azure.core.exceptions import HttpResponseError
from azure.core.paging import ItemPaged
from azure.identity import ManagedIdentityCredential
from azure.mgmt.securityinsight import SecurityInsights
from azure.mgmt.securityinsight.models import Incident

from local.emulators import EmulatorStack


def listing(client: SecurityInsights, stack: EmulatorStack, **kwargs: Any) -> ItemPaged[Incident]:
    """The SDK's pager (1.0.0 annotates it as Iterable[IncidentList]; it is ItemPaged)."""
    pages = client.incidents.list(
        stack.sentinel_resource_group, stack.sentinel_workspace_name, **kwargs
    )
    return cast("ItemPaged[Incident]", pages)


def titles(client: SecurityInsights, stack: EmulatorStack, **kwargs: Any) -> list[str]:
    """The titles the SDK lists, following every nextLink."""
    return [str(incident.title) for incident in listing(client, stack, **kwargs)]


@pytest.fixture
def seeded(stack: EmulatorStack) -> None:
    """Three incidents with known times, states and labels; "b" later edited by an analyst."""
    sentinel = stack.sentinel
    sentinel.seed_incident(
        title="a", severity="High", labels=["snow"], createdTimeUtc="2020-01-01T00:00:00Z"
    )
    sentinel.seed_incident(
        title="b", severity="Low", status="Active", createdTimeUtc="2020-01-02T00:00:00Z"
    )
    sentinel.seed_incident(
        title="c",
        severity="High",
        status="Closed",
        classification="FalsePositive",
        createdTimeUtc="2020-01-03T00:00:00Z",
    )
    b = next(i for i in sentinel.incidents() if i["properties"]["title"] == "b")
    sentinel.update_incident(b["name"], description="edited")


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("properties/status eq 'New'", ["a"]),
        ("properties/severity eq 'High'", ["a", "c"]),
        ("properties/createdTimeUtc gt 2020-01-01T00:00:00Z", ["b", "c"]),
        ("properties/createdTimeUtc ge '2020-01-01T00:00:00Z'", ["a", "b", "c"]),
        ("properties/lastModifiedTimeUtc ge 2020-01-10T00:00:00.0000000Z", ["b"]),
        ("properties/labels/any(l: l/labelName eq 'snow')", ["a"]),
        ("properties/labels/any(i:i/labelName eq 'snow')", ["a"]),
        (
            "(properties/status eq 'New' or properties/status eq 'Active') "
            "and properties/severity eq 'High'",
            ["a"],
        ),
    ],
)
def test_each_filter_form_selects_through_the_sdk(
    client: SecurityInsights, stack: EmulatorStack, expression: str, expected: list[str]
) -> None:
    """The SDK's $filter reaches the emulator intact and selects the right incidents."""
    found = titles(client, stack, filter=expression, orderby="properties/createdTimeUtc asc")
    assert found == expected


@pytest.mark.usefixtures("seeded")
def test_orderby_and_the_default_order(client: SecurityInsights, stack: EmulatorStack) -> None:
    """$orderby sorts as asked; without it the newest incident comes first (assumed)."""
    assert titles(client, stack, orderby="properties/lastModifiedTimeUtc desc")[0] == "b"
    assert titles(client, stack, orderby="properties/incidentNumber asc") == ["a", "b", "c"]
    assert titles(client, stack) == ["c", "b", "a"]


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize(
    "kwargs",
    [
        {"filter": "properties/title eq 'a'"},
        {"filter": "properties/labels/any(item: contains(toLower(item/labelName),'benign'))"},
        {"orderby": "properties/severity desc"},
        {"top": 1001},
        {"top": 0},
    ],
)
def test_unsupported_queries_are_bad_requests(
    client: SecurityInsights, stack: EmulatorStack, kwargs: dict[str, Any]
) -> None:
    """A filter, order or $top outside the subset is a 400, never silently ignored."""
    with pytest.raises(HttpResponseError) as raised:
        titles(client, stack, **kwargs)
    assert raised.value.status_code == 400
    assert raised.value.error is not None
    assert raised.value.error.code == "BadRequest"


def test_over_a_thousand_incidents_take_two_pages_of_top_1000(
    client: SecurityInsights, stack: EmulatorStack
) -> None:
    """1001 incidents with $top=1000: the SDK follows one nextLink and sees each once."""
    for number in range(1001):
        stack.sentinel.seed_incident(title=f"t{number}")
    found = titles(client, stack, top=1000, orderby="properties/createdTimeUtc asc")
    assert found == [f"t{number}" for number in range(1001)]
    assert stack.sentinel.calls("list") == 2


def test_page_two_keeps_a_per_call_api_version_through_the_next_link(
    client: SecurityInsights, stack: EmulatorStack
) -> None:
    """A per-call api_version pins page 1, and page 2 reuses it from the nextLink."""
    for number in range(3):
        stack.sentinel.seed_incident(title=f"t{number}")
    titles(client, stack, top=2, api_version="2025-06-01", filter="properties/status eq 'New'")
    pages = stack.sentinel.history("list")
    assert [page["query"]["api-version"] for page in pages] == ["2025-06-01", "2025-06-01"]
    assert pages[1]["query"]["$filter"] == "properties/status eq 'New'"
    assert "$skipToken" in pages[1]["query"]


def test_the_sdk_default_api_version_is_2021_10_01(
    client: SecurityInsights, stack: EmulatorStack
) -> None:
    """Without a per-call api_version, 1.0.0 sends its operation default."""
    titles(client, stack)
    assert stack.sentinel.history("list")[0]["query"]["api-version"] == "2021-10-01"


def test_a_client_level_api_version_is_ignored_by_1_0_0(
    stack: EmulatorStack, credential: ManagedIdentityCredential, ca: str
) -> None:
    """SecurityInsights(api_version=...) still sends 2021-10-01: pin it per call instead."""
    with SecurityInsights(
        credential,
        stack.sentinel_subscription_id,
        base_url=stack.arm_endpoint,
        connection_verify=ca,
        retry_total=0,
        api_version="2025-06-01",
    ) as pinned:
        titles(pinned, stack)
    assert stack.sentinel.history("list")[0]["query"]["api-version"] == "2021-10-01"


def test_an_unknown_api_version_is_refused(client: SecurityInsights, stack: EmulatorStack) -> None:
    """An api-version outside the accepted set answers 400 InvalidApiVersionParameter."""
    with pytest.raises(HttpResponseError) as raised:
        titles(client, stack, api_version="2020-01-01")
    assert raised.value.status_code == 400
    assert raised.value.error is not None
    assert raised.value.error.code == "InvalidApiVersionParameter"


def _page_through_with_an_update(client: SecurityInsights, stack: EmulatorStack) -> list[str]:
    """List 5 incidents 2 per page by lastModified, editing the first one after page 1."""
    for number in range(5):
        stack.sentinel.seed_incident(title=f"t{number}")
    pages = listing(client, stack, top=2, orderby="properties/lastModifiedTimeUtc asc").by_page()
    seen = [str(incident.title) for incident in next(pages)]
    first = next(i for i in stack.sentinel.incidents() if i["properties"]["title"] == "t0")
    stack.sentinel.update_incident(first["name"], status="Active")
    later = [incident for page in pages for incident in page]
    return seen + [str(i.title) for i in later]


def test_snapshot_paging_is_stable_across_an_update(
    client: SecurityInsights, stack: EmulatorStack
) -> None:
    """In snapshot mode every incident that matched is listed exactly once."""
    seen = _page_through_with_an_update(client, stack)
    assert seen == [f"t{number}" for number in range(5)]


def test_offset_paging_can_skip_and_repeat_after_an_update(
    client: SecurityInsights, stack: EmulatorStack
) -> None:
    """In offset mode the edited incident moves to the end: t2 is missed, t0 comes twice."""
    stack.sentinel.pager.mode = "offset"
    seen = _page_through_with_an_update(client, stack)
    assert seen == ["t0", "t1", "t3", "t4", "t0"]


def test_raw_next_links_are_followed_by_the_sdk(
    client: SecurityInsights, stack: EmulatorStack
) -> None:
    """An unescaped nextLink (what Elastic reports) still works with 1.0.0 over requests."""
    stack.sentinel.raw_next_link = True
    for number in range(3):
        stack.sentinel.seed_incident(title=f"t{number}")
    found = titles(
        client,
        stack,
        top=1,
        filter="properties/createdTimeUtc ge 2020-01-01T00:00:00Z",
        orderby="properties/createdTimeUtc asc",
    )
    assert found == ["t0", "t1", "t2"]


def test_a_raw_next_link_turns_an_offset_plus_into_a_space(
    client: SecurityInsights, stack: EmulatorStack
) -> None:
    """Unescaped, '+00:00' in a nextLink reads back as ' 00:00': page 2 fails; use 'Z'."""
    stack.sentinel.raw_next_link = True
    for number in range(2):
        stack.sentinel.seed_incident(title=f"t{number}")
    with pytest.raises(HttpResponseError) as raised:
        titles(
            client, stack, top=1, filter="properties/createdTimeUtc ge 2020-01-01T00:00:00+00:00"
        )
    assert raised.value.status_code == 400
    filters = [page["query"]["$filter"] for page in stack.sentinel.history("list")]
    assert filters[1].endswith("00:00:00 00:00")
