"""LOGS_INGESTION_DCR_ROUTES: stream -> DCR immutable ID, the single DCR as the default."""

from __future__ import annotations

import pytest

from shared.config.dcr_routes import parse_routes, rule_for
from shared.config.settings import Settings
from shared.errors import ConfigError
from tests.unit.test_settings import VALID


def test_empty_means_every_stream_uses_the_default_rule() -> None:
    """No setting (one DCR): every stream goes to LOGS_INGESTION_DCR_ID."""
    routes, problems = parse_routes("")
    assert (routes, problems) == ({}, [])
    assert rule_for("Custom-FigEvents", routes, "dcr-a") == "dcr-a"


def test_a_routed_stream_uses_its_rule() -> None:
    """A listed stream goes to its DCR; others to the default."""
    routes, problems = parse_routes('{"Custom-FigEvents": "dcr-b"}')
    assert problems == []
    assert rule_for("Custom-FigEvents", routes, "dcr-a") == "dcr-b"
    assert rule_for("Custom-WallarmEvents", routes, "dcr-a") == "dcr-a"


@pytest.mark.parametrize(
    "text", ["not json", "[]", '{"FigEvents": "dcr-b"}', '{"Custom-FigEvents": 3}']
)
def test_a_malformed_map_is_a_settings_problem(text: str) -> None:
    """Settings.from_env names the setting; nothing falls back silently."""
    with pytest.raises(ConfigError) as error:
        Settings.from_env({**VALID, "LOGS_INGESTION_DCR_ROUTES": text})
    assert "LOGS_INGESTION_DCR_ROUTES" in " ".join(error.value.problems)


def test_settings_read_the_map() -> None:
    """The parsed map is on the settings, read-only."""
    settings = Settings.from_env({**VALID, "LOGS_INGESTION_DCR_ROUTES": '{"Custom-X": "dcr-c"}'})
    assert dict(settings.logs_ingestion_dcr_routes) == {"Custom-X": "dcr-c"}
    assert Settings.from_env(VALID).logs_ingestion_dcr_routes == {}
