"""Route templates and the route table, without a server."""

from __future__ import annotations

import pytest

from local.host.routes import RouteTable, RouteTemplateError, compile_route


@pytest.mark.parametrize(
    ("template", "path", "expected"),
    [
        ("api/fig/{event}", "/api/fig/push", {"event": "push"}),
        ("api/fig/{event}", "/API/Fig/Push", {"event": "Push"}),
        ("api/fig/{event}", "/api/fig/push/", {"event": "push"}),
        ("api/fig/{event}", "/api/fig/a%2Fb", {"event": "a/b"}),
        ("api/fig/{event}", "/api/fig/hello%20world", {"event": "hello world"}),
        ("api/items/{id:int}", "/api/items/42", {"id": "42"}),
        ("api/items/{id:min(1)}", "/api/items/abc", {"id": "abc"}),
        (
            "api/items/{id:guid}",
            "/api/items/3f2504e0-4f89-11d3-9a0c-0305e82c3301",
            {"id": "3f2504e0-4f89-11d3-9a0c-0305e82c3301"},
        ),
        ("api/hello/{name?}", "/api/hello/bob", {"name": "bob"}),
        ("api/hello/{name?}", "/api/hello", {}),
        ("api/hello/{name=world}", "/api/hello", {"name": "world"}),
        ("api/files/{*rest}", "/api/files/a/b/c.txt", {"rest": "a/b/c.txt"}),
        ("api/files/{**rest}", "/api/files", {}),
        ("api/dl/{name}.{ext}", "/api/dl/report.tar.gz", {"name": "report", "ext": "tar.gz"}),
        ("health", "/health", {}),
    ],
)
def test_matching_paths(template: str, path: str, expected: dict[str, str]) -> None:
    """Matching paths yield their decoded route parameters."""
    assert compile_route(template).match(path) == expected


@pytest.mark.parametrize(
    ("template", "path"),
    [
        ("api/fig/{event}", "/api/fig"),
        ("api/fig/{event}", "/api/fig/push/extra"),
        ("api/fig/{event}", "/api/figs/push"),
        ("api/items/{id:int}", "/api/items/abc"),
        ("api/items/{id:int}", "/api/items/99999999999"),
        ("api/items/{id:bool}", "/api/items/yes"),
        ("api/items/{id:alpha}", "/api/items/a1"),
        ("api/health", "/health"),
    ],
)
def test_non_matching_paths(template: str, path: str) -> None:
    """Other paths, and values failing an enforced constraint, do not match."""
    assert compile_route(template).match(path) is None


def test_literal_segments_win_over_parameters() -> None:
    """The most specific template is tried first, whatever the registration order."""
    table = RouteTable(
        [
            ("api/{*rest}", "catch-all"),
            ("api/items/{id}", "by-id"),
            ("api/items/{id:int}", "by-int"),
            ("api/items/new", "new"),
        ]
    )
    assert [target for target, _ in table.match("/api/items/new")] == [
        "new",
        "by-id",
        "catch-all",
    ]
    assert table.match("/api/items/7")[0] == ("by-int", {"id": "7"})
    assert table.match("/api/other") == [("catch-all", {"rest": "other"})]
    assert table.match("/elsewhere") == []


@pytest.mark.parametrize("template", ["api/{*rest}/more", "api/{a", "api/x{*rest}"])
def test_unreadable_templates_are_rejected(template: str) -> None:
    """A catch-all that is not last, or unbalanced braces, fail at startup."""
    with pytest.raises(RouteTemplateError):
        compile_route(template)


def test_a_remembered_path_matches_as_the_first_time() -> None:
    """The path cache keeps the order and params, and hands out fresh params each time."""
    table = RouteTable(
        [("api/{*rest}", "catch-all"), ("api/items/{id}", "by-id"), ("api/items/new", "new")]
    )
    first = table.match("/api/items/new")
    first[1][1]["id"] = "changed by a caller"
    again = table.match("/api/items/new")
    assert again == [("new", {}), ("by-id", {"id": "new"}), ("catch-all", {"rest": "items/new"})]
    assert table.match("/API/Items/New/") == [
        ("new", {}),
        ("by-id", {"id": "New"}),
        ("catch-all", {"rest": "Items/New"}),
    ]


@pytest.mark.parametrize("cache_size", [0, 2])
def test_the_path_cache_is_bounded_and_optional(cache_size: int) -> None:
    """Past its size the cache forgets old paths; every answer stays right."""
    table = RouteTable(
        [("api/items/{id:int}", "by-int"), ("api/{*rest}", "rest")], cache_size=cache_size
    )
    for _ in range(2):
        for number in range(5):
            assert table.match(f"/api/items/{number}")[0] == ("by-int", {"id": str(number)})
        assert table.match("/api/items/x") == [("rest", {"rest": "items/x"})]
        assert table.match("/nowhere") == []
    assert len(table._cache) <= cache_size  # the bound is the point
