"""The reference payloads in ../shared/reference/payloads, read as the bytes senders send."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "payloads"

# Fig route -> reference file(s) with a real (not test) event.
FIG_EVENTS = {
    "SecurityEvent": "fig_security_event_failed_login.json",
    "SettingValueChanged": "fig_setting_value_changed.json",
    "NewClientRegistration": "fig_new_client_registration.json",
    "UpdatedClientRegistration": "fig_updated_client_registration.json",
    "ClientRegistration": "fig_new_client_registration.json",
    "ClientStatusChanged": "fig_client_status_changed_disconnected.json",
    "HealthStatusChanged": "fig_health_status_changed.json",
    "ClientHealthChanged": "fig_health_status_changed.json",
    "MinRunSessions": "fig_min_run_sessions.json",
    "MemoryLeakDetected": "fig_memory_leak_detected_legacy.json",
    "ConfigurationError": "fig_configuration_error_legacy.json",
}
FIG_TESTS = {
    "SecurityEvent": "fig_security_event_test.json",
    "SettingValueChanged": "fig_setting_value_changed_test.json",
    "HealthStatusChanged": "fig_health_status_changed_test.json",
}
# Fig's own test pair (src/tests in mzbrau/fig), confirmed in the reference.
FIG_REFERENCE_SECRET = "d21b0b4b-b978-4048-85be-eb73e057f6fb"
FIG_REFERENCE_HASH = "$2a$11$3xvQfzPYHvedNwRz.DWX8ecezdoiarEEuvAjL9BxBiUiPZ9BC/oYC"


def raw(name: str) -> bytes:
    """A payload file's bytes, exactly as stored."""
    return (REFERENCE / name).read_bytes()


def parsed(name: str) -> Any:
    """A payload file, parsed."""
    return json.loads(raw(name))
