"""INCIDENT_SOURCES: many sources, each alone; the single-workspace settings as a one-entry list."""

from __future__ import annotations

import json
from datetime import timedelta

from shared.config.incident_sources import feature_of, parse_incident_sources
from shared.config.incidents import IncidentSettings, WebhookDestination
from shared.config.settings import Settings
from shared.incidents.domain import graph
from tests.unit.test_intake import BASE_SETTINGS

HOOKS = (WebhookDestination("siem", "https://siem.example/h", "siem-secret"),)
BASE = IncidentSettings(webhooks=HOOKS)
SENTINEL = {"subscriptionId": "s1", "resourceGroup": "rg", "workspace": "law"}


def test_the_single_workspace_settings_are_a_one_entry_list() -> None:
    """No INCIDENT_SOURCES: the SENTINEL_* workspace is the source called default."""
    legacy = IncidentSettings(subscription_id="s", resource_group="g", workspace_name="w")
    found, problems = parse_incident_sources("", legacy)
    assert (problems, found.ids) == ([], ("default",))
    assert found.sources[0] is legacy
    assert found.case_source() is legacy
    assert parse_incident_sources("", IncidentSettings())[0].ids == ()


def test_each_entry_carries_its_own_filters_team_and_destinations() -> None:
    """Absent keys take the single-source defaults; given ones are the entry's own."""
    text = json.dumps(
        [
            {"id": "contoso", "kind": "sentinel", **SENTINEL},
            {
                "id": "defender",
                "kind": "graph",
                "statuses": ["New", "Active"],
                "maxAgeHours": 6,
                "signl4TeamSecretName": "team-two",
                "webhooks": [],
            },
        ]
    )
    found, problems = parse_incident_sources(text, BASE)
    assert problems == []
    contoso, defender = found.sources
    assert (contoso.workspace_name, contoso.webhooks, contoso.statuses) == (
        "law",
        HOOKS,
        frozenset({"New"}),
    )
    assert (defender.kind, defender.enabled, defender.webhooks) == ("graph", True, ())
    assert defender.max_age == timedelta(hours=6)
    assert defender.signl4_team_secret_name == "team-two"
    assert defender.external_id("42") == "defender:42"
    assert found.case_source() is contoso


def test_a_broken_entry_turns_off_only_itself() -> None:
    """Unknown keys, a missing workspace, a duplicate id or an unknown webhook name: that
    entry is off under incident-source:<id>; the rest are configured."""
    text = json.dumps(
        [
            {"id": "good", "kind": "sentinel", **SENTINEL},
            {"id": "bad", "kind": "sentinel", "subscriptionId": "s"},
            {"id": "good", "kind": "graph"},
            {"id": "hooks", "kind": "graph", "webhooks": ["nope"]},
            {"id": "extra", "kind": "graph", **SENTINEL},
        ]
    )
    found, problems = parse_incident_sources(text, BASE)
    assert problems == []
    assert found.ids == ("good",)
    assert set(found.problems) == {"bad", "#2", "hooks", "extra"}


def test_settings_report_a_source_problem_under_its_own_feature() -> None:
    """Settings.problems: a bad entry is its feature's; a list that is not JSON turns off
    incident forwarding; SENTINEL_* beside the list is its first source, ``default``."""
    entries = [{"id": "ok", "kind": "graph"}, {"id": "bad", "kind": "graph", "tag": 1}]
    settings = Settings.from_env({**BASE_SETTINGS, "INCIDENT_SOURCES": json.dumps(entries)})
    assert settings.incident_sources.ids == ("ok",)
    assert settings.problems_of(feature_of("bad"))
    assert not settings.problems_of("incidents")
    broken = Settings.from_env({**BASE_SETTINGS, "INCIDENT_SOURCES": "[{"})
    assert broken.problems_of("incidents") == ("INCIDENT_SOURCES is not JSON",)
    both = {
        **BASE_SETTINGS,
        "INCIDENT_SOURCES": json.dumps([*entries[:1], {"id": "default", "kind": "graph"}]),
        "SENTINEL_SUBSCRIPTION_ID": "s",
        "SENTINEL_RESOURCE_GROUP": "g",
        "SENTINEL_WORKSPACE_NAME": "w",
    }
    together = Settings.from_env(both)
    assert together.incident_sources.ids == ("default", "ok")  # SENTINEL_* first, as default
    assert together.incident_sources.sources[0].workspace_name == "w"
    assert together.problems_of(feature_of("#1"))  # "default" is SENTINEL_*'s id


def test_a_graph_incident_reads_as_a_sentinel_one_and_writes_back_as_a_patch() -> None:
    """Status, severity, tags, owner and times map both ways; only changes are patched."""
    raw = {
        "id": "2972395",
        "displayName": "Multi-stage",
        "status": "inProgress",
        "severity": "high",
        "classification": "unknown",
        "customTags": ["Demo"],
        "assignedTo": "kai@contoso.com",
        "createdDateTime": "2021-08-13T08:43:35.5533333Z",
        "lastUpdateDateTime": "2021-09-30T09:35:45.1133333Z",
        "comments": [],
        "alerts": [{"serviceSource": "microsoftDefenderForEndpoint", "category": "Execution"}],
    }
    arm = graph.to_arm(raw)
    props = arm["properties"]
    assert (props["status"], props["severity"], props["incidentNumber"]) == (
        "Active",
        "High",
        2972395,
    )
    assert props["labels"] == [{"labelName": "Demo", "labelType": "User"}]
    assert props["additionalData"]["tactics"] == ["Execution"]
    assert arm["etag"] == '"2021-09-30T09:35:45.1133333Z"'
    closed = {**props, "status": "Closed", "classification": "FalsePositive"}
    closed["labels"] = [*props["labels"], {"labelName": "SIGNL4", "labelType": "User"}]
    patch = graph.patch_body(arm, {"properties": closed})
    assert patch == {
        "status": "resolved",
        "classification": "falsePositive",
        "determination": "other",
        "customTags": ["Demo", "SIGNL4"],
    }
    assert graph.patch_body(arm, {"properties": props}) == {}
    assert graph.graph_filter("properties/lastModifiedTimeUtc ge 2026-01-01T00:00:00.000000Z") == (
        "lastUpdateDateTime ge 2026-01-01T00:00:00.000000Z"
    )
