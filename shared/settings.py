"""Typed settings, read from an injected mapping (``os.environ`` in the app, a dict in tests).

Every setting the code reads is declared once in ``SETTINGS``: the README's table, the
Bicep consistency tests and ``Settings.from_env`` all walk it. Nothing here runs at
import time; ``bootstrap`` reads the settings on first use, so a bad setting is reported
by name (all of them at once) by the health endpoint and in the log, and never stops the
Functions host from indexing the app.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from urllib.parse import urlparse

from shared.errors import ConfigError
from shared.sources import fig_contracts, ingest

DEFAULT_MAX_BODY_BYTES = 1_048_576


@dataclass(frozen=True)
class Setting:
    """One app setting: its name, default (None when required) and what it means."""

    name: str
    default: str | None
    meaning: str
    required: bool = False


SETTINGS: tuple[Setting, ...] = (
    Setting("KEY_VAULT_URI", None, "Key Vault URL, e.g. https://kv-name.vault.azure.net/", True),
    Setting(
        "KEY_VAULT_VERIFY_CHALLENGE_RESOURCE",
        "true",
        "Check that Key Vault's auth challenge names the vault's domain; only the local "
        "emulators set false",
    ),
    Setting("AZURE_CLIENT_ID", "", "Client ID of the user-assigned managed identity (optional)"),
    Setting(
        "LOGS_INGESTION_ENDPOINT",
        None,
        "The DCR's (or DCE's) logs ingestion endpoint",
        True,
    ),
    Setting("LOGS_INGESTION_DCR_ID", None, "The DCR's immutable ID (dcr-...)", True),
    Setting(
        "LOGS_INGESTION_AUDIENCE",
        "https://monitor.azure.com",
        "Token audience for ingestion (sovereign clouds differ)",
    ),
    Setting("FIG_SECRET_HASH_NAME", "fig-secret-hash", "Key Vault secret holding Fig's hash"),
    Setting(
        "FIG_EVENT_TYPES",
        "",
        "Comma list of Fig event types to forward; empty forwards all",
    ),
    Setting(
        "MAX_BODY_BYTES",
        str(DEFAULT_MAX_BODY_BYTES),
        "Largest webhook body accepted, in bytes; larger ones get 413",
    ),
    Setting(
        "WALLARM_TOKEN_HEADER",
        "X-Auth-Token",
        "Header Wallarm's webhook integration sends the token in",
    ),
    Setting(
        "WALLARM_TOKEN_NAME",
        "wallarm-token",
        "Key Vault secret holding Wallarm's token; while it is absent /api/wallarm answers 404",
    ),
    Setting(
        "ELASTIC_AUTH_NAME",
        "elastic-webhook-auth",
        "Key Vault secret holding Kibana's credentials: user:password (Basic) or a token "
        "(Authorization: ApiKey <token> or X-Auth-Token); while absent /api/elastic/alerts is 404",
    ),
    Setting(
        "INGEST_SOURCES",
        "{}",
        'JSON object: source name -> {"stream": "Custom-...", "secretNames": [newest first]} '
        "for /api/ingest/{source} (Standard Webhooks); sources not listed answer 404",
    ),
)

SETTING_NAMES: frozenset[str] = frozenset(s.name for s in SETTINGS)
_BY_NAME = {s.name: s for s in SETTINGS}

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


@dataclass(frozen=True)
class Settings:
    """The bridge's configuration. Build it with :meth:`from_env`."""

    key_vault_uri: str
    key_vault_verify_challenge_resource: bool
    azure_client_id: str | None
    logs_ingestion_endpoint: str
    logs_ingestion_dcr_id: str
    logs_ingestion_audience: str
    fig_secret_hash_name: str
    fig_event_types: frozenset[str] | None
    max_body_bytes: int
    wallarm_token_header: str
    wallarm_token_name: str
    elastic_auth_name: str
    ingest_sources: Mapping[str, ingest.IngestConfig]

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Read and check every setting; raise one ConfigError naming every problem."""
        reader = _Reader(environ)
        settings = cls(
            key_vault_uri=reader.https_url("KEY_VAULT_URI"),
            key_vault_verify_challenge_resource=reader.boolean(
                "KEY_VAULT_VERIFY_CHALLENGE_RESOURCE"
            ),
            azure_client_id=reader.text("AZURE_CLIENT_ID") or None,
            logs_ingestion_endpoint=reader.https_url("LOGS_INGESTION_ENDPOINT"),
            logs_ingestion_dcr_id=reader.text("LOGS_INGESTION_DCR_ID"),
            logs_ingestion_audience=reader.https_url("LOGS_INGESTION_AUDIENCE"),
            fig_secret_hash_name=reader.text("FIG_SECRET_HASH_NAME"),
            fig_event_types=reader.name_set("FIG_EVENT_TYPES", known=fig_contracts.EVENT_TYPES),
            max_body_bytes=reader.positive_int("MAX_BODY_BYTES"),
            wallarm_token_header=_header_name(reader, "WALLARM_TOKEN_HEADER"),
            wallarm_token_name=reader.text("WALLARM_TOKEN_NAME"),
            elastic_auth_name=reader.text("ELASTIC_AUTH_NAME"),
            ingest_sources=_ingest_sources(reader, "INGEST_SOURCES"),
        )
        if reader.problems:
            raise ConfigError(reader.problems)
        return settings


class _Reader:
    """Reads settings, collecting every problem instead of stopping at the first."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self.problems: list[str] = []

    def text(self, name: str) -> str:
        spec = _BY_NAME[name]
        value = self._environ.get(name, "").strip()
        if value:
            return value
        if spec.required:
            self.problems.append(f"{name} is not set ({spec.meaning})")
        return spec.default or ""

    def https_url(self, name: str) -> str:
        value = self.text(name)
        if value:
            parsed = urlparse(value)
            if parsed.scheme != "https" or not parsed.netloc:
                self.problems.append(f"{name} must be an https:// URL")
        return value

    def boolean(self, name: str) -> bool:
        value = self.text(name).lower()
        if value in _TRUE:
            return True
        if value not in _FALSE:
            self.problems.append(f"{name} must be true or false")
        return False

    def positive_int(self, name: str) -> int:
        value = self.text(name)
        try:
            number = int(value)
        except ValueError:
            number = 0
        if number <= 0:
            self.problems.append(f"{name} must be a positive whole number")
        return number

    def name_set(self, name: str, *, known: frozenset[str]) -> frozenset[str] | None:
        names = frozenset(part.strip() for part in self.text(name).split(",") if part.strip())
        unknown = sorted(names - known)
        if unknown:
            self.problems.append(
                f"{name} names unknown value(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(known))}"
            )
        return names or None


_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}")


def _header_name(reader: _Reader, name: str) -> str:
    """An HTTP header name, lower case (the edge lower-cases the request's header names)."""
    value = reader.text(name)
    if not _HEADER_NAME.fullmatch(value):
        reader.problems.append(f"{name} must be an HTTP header name such as X-Auth-Token")
    return value.lower()


def _ingest_sources(reader: _Reader, name: str) -> Mapping[str, ingest.IngestConfig]:
    """``INGEST_SOURCES`` as source name -> configuration; its problems join the others."""
    sources, problems = ingest.parse_sources(reader.text(name))
    reader.problems.extend(problems)
    return MappingProxyType(sources)
