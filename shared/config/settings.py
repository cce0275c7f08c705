"""Typed settings, read from an injected mapping (``os.environ`` in the app, a dict in tests).

Every setting the code reads is declared once in ``SETTINGS``: the README's table, the
Bicep consistency tests and ``Settings.from_env`` all walk it. Nothing here runs at
import time; ``bootstrap`` reads the settings on first use, so a bad setting is reported
by name (all of them at once) by the health endpoint and in the log, and never stops the
Functions host from indexing the app.

Settings every capability shares (the vault, the identity, ingestion, storage, retries)
make ``from_env`` raise one ``ConfigError``. A setting of one feature (a source, incident
forwarding) only records a problem under that feature's name in ``problems``: the feature
is off, named by ``/api/health``, and everything else keeps working.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from types import MappingProxyType

from shared.config import dcr_routes, incident_sources
from shared.config import incidents as incident_config
from shared.config.catalog import (
    DEFAULT_MAX_BODY_BYTES,
    SETTING_NAMES,
    SETTINGS,
    Setting,
)
from shared.config.ingest import IngestSettings, parse_sources
from shared.config.reader import (
    MAX_BUDGET_HOURS,
    MAX_QUEUE_NAME,
    Reader,
    header_name,
    storage_name,
    table_name,
    web_url,
)
from shared.config.search import SearchSettings, parse_search_settings
from shared.config.storage import StorageConnection, parse_storage_connection
from shared.errors import ConfigError

__all__ = ["DEFAULT_MAX_BODY_BYTES", "SETTINGS", "SETTING_NAMES", "Setting", "Settings"]


@dataclass(frozen=True)
class Settings:
    """The bridge's configuration. Build it with :meth:`from_env`."""

    key_vault_uri: str
    key_vault_verify_challenge_resource: bool
    azure_client_id: str | None
    logs_ingestion_endpoint: str
    logs_ingestion_dcr_id: str
    logs_ingestion_dcr_routes: Mapping[str, str]
    logs_ingestion_audience: str
    fig_secret_hash_name: str
    fig_event_types: frozenset[str] | None
    max_body_bytes: int
    max_rows_per_request: int
    wallarm_token_header: str
    wallarm_token_name: str
    elastic_auth_name: str
    kibana_base_url: str
    ingest: IngestSettings
    storage: StorageConnection
    retry_queue_name: str
    retry_spill_container: str
    dead_letter_container: str
    delivery_budget: timedelta
    retry_base_seconds: float
    retry_max_seconds: float
    coalesce_window_seconds: float
    health_table_name: str
    incidents: incident_config.IncidentSettings
    """The single-source settings, and every source's defaults."""
    incident_sources: incident_sources.IncidentSources
    """Every incident source (``INCIDENT_SOURCES``, or the ``SENTINEL_*`` workspace alone)."""
    incident_search: SearchSettings
    """The rows behind each alert, for every Sentinel source (``INCIDENT_SEARCH_*``)."""
    problems: Mapping[str, tuple[str, ...]]
    """Each feature's own problems (``fig``, ``wallarm``, ``elastic``, ``ingest``,
    ``incidents``): that feature is off; the others are not affected."""

    def problems_of(self, feature: str) -> tuple[str, ...]:
        """The problems that turn ``feature`` off (none when it is configured)."""
        return self.problems.get(feature, ())

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Read and check every setting; raise one ConfigError naming every problem."""
        reader = Reader(environ)
        settings = cls(
            key_vault_uri=reader.https_url("KEY_VAULT_URI"),
            key_vault_verify_challenge_resource=reader.boolean(
                "KEY_VAULT_VERIFY_CHALLENGE_RESOURCE"
            ),
            azure_client_id=reader.text("AZURE_CLIENT_ID") or None,
            logs_ingestion_endpoint=reader.https_url("LOGS_INGESTION_ENDPOINT"),
            logs_ingestion_dcr_id=reader.text("LOGS_INGESTION_DCR_ID"),
            logs_ingestion_dcr_routes=_dcr_routes(reader),
            logs_ingestion_audience=reader.https_url("LOGS_INGESTION_AUDIENCE"),
            fig_secret_hash_name=reader.text("FIG_SECRET_HASH_NAME", feature="fig"),
            fig_event_types=reader.name_set("FIG_EVENT_TYPES"),
            max_body_bytes=reader.positive_int("MAX_BODY_BYTES"),
            max_rows_per_request=reader.positive_int("MAX_ROWS_PER_REQUEST"),
            wallarm_token_header=header_name(reader, "WALLARM_TOKEN_HEADER", feature="wallarm"),
            wallarm_token_name=reader.text("WALLARM_TOKEN_NAME", feature="wallarm"),
            elastic_auth_name=reader.text("ELASTIC_AUTH_NAME", feature="elastic"),
            kibana_base_url=web_url(reader, "KIBANA_BASE_URL", feature="elastic"),
            ingest=_ingest(reader, "INGEST_SOURCES"),
            storage=_storage(reader, environ),
            retry_queue_name=storage_name(reader, "RETRY_QUEUE_NAME", max_length=MAX_QUEUE_NAME),
            retry_spill_container=storage_name(reader, "RETRY_SPILL_CONTAINER"),
            dead_letter_container=storage_name(reader, "DEAD_LETTER_CONTAINER"),
            delivery_budget=timedelta(
                hours=reader.number("DELIVERY_BUDGET_HOURS", above=0, at_most=MAX_BUDGET_HOURS)
            ),
            retry_base_seconds=reader.number("RETRY_BASE_SECONDS", above=0, at_most=3600),
            retry_max_seconds=reader.number("RETRY_MAX_SECONDS", above=0, at_most=7 * 86400),
            coalesce_window_seconds=reader.number("COALESCE_WINDOW_MS", at_least=0, at_most=1000)
            / 1000,
            health_table_name=table_name(reader, "HEALTH_TABLE_NAME"),
            incidents=(base := _incidents(reader)),
            incident_sources=_incident_sources(reader, base),
            incident_search=_incident_search(reader),
            problems=MappingProxyType(
                {feature: tuple(found) for feature, found in reader.feature_problems.items()}
            ),
        )
        if reader.problems:
            raise ConfigError(reader.problems)
        return settings


def _ingest(reader: Reader, name: str) -> IngestSettings:
    """``INGEST_SOURCES``, entry by entry; a broken entry turns off only its own route."""
    ingest = parse_sources(reader.text(name))
    for problem in ingest.problems:
        reader.report(problem, feature="ingest")
    return ingest


def _dcr_routes(reader: Reader) -> Mapping[str, str]:
    routes, problems = dcr_routes.parse_routes(reader.text(dcr_routes.SETTING))
    reader.problems.extend(problems)
    return MappingProxyType(routes)


def _storage(reader: Reader, environ: Mapping[str, str]) -> StorageConnection:
    """The Functions host's own storage account (``AzureWebJobsStorage`` and friends)."""
    try:
        return parse_storage_connection(environ)
    except ValueError as error:
        reader.problems.append(str(error))
        return StorageConnection(setting="AzureWebJobsStorage")  # never used: ConfigError follows


def _incidents(reader: Reader) -> incident_config.IncidentSettings:
    """Incident forwarding's settings; their problems turn off only incident forwarding."""
    values = {
        name: reader.text(name, feature="incidents")
        for name in (
            "SENTINEL_SUBSCRIPTION_ID",
            "SENTINEL_RESOURCE_GROUP",
            "SENTINEL_WORKSPACE_NAME",
            "INCIDENT_POLL_SCHEDULE",
            "INCIDENT_STATUSES",
            "INCIDENT_SEVERITIES",
            "INCIDENT_MAX_AGE_HOURS",
            "INCIDENT_LABEL",
            "SIGNL4_TEAM_SECRET_NAME",
            "SIGNL4_CALLBACK_TOKEN_NAME",
            "SIGNL4_CLOSE_CLASSIFICATION",
            "WEBHOOK_DESTINATIONS",
            "ALLOW_PRIVATE_DESTINATIONS",
            "INCIDENT_AUGMENT",
            "WEBHOOK_TAGS",
        )
    }
    for name in ("SIGNL4_TAG", "SIGNL4_OWNER_ON"):  # set but empty means none, not the default
        values[name] = reader.text_or_empty(name)
    values["ARM_ENDPOINT"] = reader.https_url("ARM_ENDPOINT", feature="incidents")
    values["GRAPH_ENDPOINT"] = reader.https_url("GRAPH_ENDPOINT", feature="incidents")
    values["SIGNL4_WEBHOOK_BASE"] = reader.https_url("SIGNL4_WEBHOOK_BASE", feature="incidents")
    settings, problems = incident_config.parse_incident_settings(values)
    for problem in problems:
        # A bad destination is dropped alone; the others and the poller keep working.
        destination = problem.startswith("WEBHOOK_DESTINATIONS[")
        reader.report(problem, feature="destinations" if destination else "incidents")
    return settings


def _incident_search(reader: Reader) -> SearchSettings:
    """Search results for forwarded incidents; a bad one turns off incident forwarding."""
    search, problems = parse_search_settings(reader.text)
    for problem in problems:
        reader.report(problem, feature="incidents")
    return search


def _incident_sources(
    reader: Reader, base: incident_config.IncidentSettings
) -> incident_sources.IncidentSources:
    """``INCIDENT_SOURCES``: a broken entry turns off that source alone."""
    found, problems = incident_sources.parse_incident_sources(
        reader.text_or_empty(incident_sources.SETTING), base
    )
    for problem in problems:
        reader.report(problem, feature="incidents")
    for source_id, entry_problems in found.problems.items():
        for problem in entry_problems:
            reader.report(problem, feature=incident_sources.feature_of(source_id))
    return found
