"""Settings from an injected mapping: defaults, every problem at once, nothing at import."""

from __future__ import annotations

import pytest

from shared.bootstrap.sources import SourceCatalog, SourceMemory
from shared.config.settings import SETTINGS, Settings
from shared.errors import ConfigError, FeatureOff
from shared.sources.replay_guard import MemoryReplayLedger

VALID = {
    "KEY_VAULT_URI": "https://kv-bridge.vault.azure.net/",
    "LOGS_INGESTION_ENDPOINT": "https://dcr-x.westeurope-1.ingest.monitor.azure.com",
    "LOGS_INGESTION_DCR_ID": "dcr-00000000000000000000000000000000",
    "AzureWebJobsStorage": "UseDevelopmentStorage=true",
}


def test_minimal_settings_take_documented_defaults() -> None:
    """Three settings are enough; the rest default as the settings table says."""
    settings = Settings.from_env(VALID)
    assert settings.fig_secret_hash_name == "fig-secret-hash"
    assert settings.logs_ingestion_audience == "https://monitor.azure.com"
    assert settings.key_vault_verify_challenge_resource is True
    assert settings.fig_event_types is None
    assert settings.azure_client_id is None
    assert settings.max_body_bytes == 1_048_576
    assert settings.retry_queue_name == "bridge-retries"
    assert settings.delivery_budget.total_seconds() == 47 * 3600
    assert settings.coalesce_window_seconds == 0.005


def test_every_problem_is_reported_at_once_by_name() -> None:
    """Missing and invalid settings are all named in one error, no values echoed."""
    with pytest.raises(ConfigError) as error:
        Settings.from_env(
            {
                "LOGS_INGESTION_ENDPOINT": "http://not-tls.example",
                "KEY_VAULT_VERIFY_CHALLENGE_RESOURCE": "maybe",
                "MAX_BODY_BYTES": "-1",
                "FIG_EVENT_TYPES": "SecurityEvent,Logins",
                "RETRY_QUEUE_NAME": "Retries_Queue",
                "DELIVERY_BUDGET_HOURS": "0",
                "COALESCE_WINDOW_MS": "soon",
            }
        )
    text = " ".join(error.value.problems)
    for name in (
        "KEY_VAULT_URI",
        "LOGS_INGESTION_DCR_ID",
        "LOGS_INGESTION_ENDPOINT",
        "KEY_VAULT_VERIFY_CHALLENGE_RESOURCE",
        "MAX_BODY_BYTES",
        "AzureWebJobsStorage",
        "RETRY_QUEUE_NAME",
        "DELIVERY_BUDGET_HOURS",
        "COALESCE_WINDOW_MS",
    ):
        assert name in text
    assert "configuration is incomplete" in error.value.message  # what a sender sees


def test_a_feature_setting_turns_off_only_that_feature() -> None:
    """A bad Fig, Wallarm, Elastic or incident setting is that feature's problem alone."""
    settings = Settings.from_env(
        {**VALID, "WALLARM_TOKEN_HEADER": "X Bad", "ARM_ENDPOINT": "http://arm.example"}
    )
    assert "WALLARM_TOKEN_HEADER" in settings.problems_of("wallarm")[0]
    assert "ARM_ENDPOINT" in settings.problems_of("incidents")[0]
    assert settings.problems_of("fig") == ()


def test_unknown_fig_event_types_turn_off_fig_alone() -> None:
    """FIG_EVENT_TYPES naming an unknown type: Fig is off and says which; Wallarm is built."""
    settings = Settings.from_env({**VALID, "FIG_EVENT_TYPES": "SecurityEvent,Logins"})
    catalog = SourceCatalog(settings, SourceMemory.fresh(), MemoryReplayLedger)
    with pytest.raises(FeatureOff) as off:
        catalog.source("fig")
    assert "Logins" in off.value.problems[0]
    assert catalog.source("wallarm").name == "wallarm"
    assert set(catalog.off()) == {"fig"}


def test_event_type_filter_is_a_set_of_known_names() -> None:
    """FIG_EVENT_TYPES is a comma list, spaces ignored."""
    settings = Settings.from_env({**VALID, "FIG_EVENT_TYPES": " SecurityEvent , MinRunSessions"})
    assert settings.fig_event_types == frozenset({"SecurityEvent", "MinRunSessions"})


def test_every_setting_is_documented_once() -> None:
    """SETTINGS names each setting once, with its meaning (the README table and Bicep use it)."""
    names = [s.name for s in SETTINGS]
    assert len(names) == len(set(names))
    assert all(s.meaning for s in SETTINGS)
