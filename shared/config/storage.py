"""Which storage account the app uses: the Functions host's own, read from its settings.

The retry queue must live where the host's queue trigger looks for it, so the app reads
the same settings the host reads for ``connection="AzureWebJobsStorage"``, in the same
order (reference: azure-functions-and-emulation.md, section 4):

1. ``AzureWebJobsStorage``: a connection string (Azurite locally: its connection string
   or ``UseDevelopmentStorage=true``). It holds an account key or SAS, so it is a secret:
   ``repr`` never shows it and no error message quotes it.
2. Otherwise an identity-based connection: ``AzureWebJobsStorage__blobServiceUri`` and
   ``__queueServiceUri`` (``__tableServiceUri`` optional), or ``__accountName``, from
   which ``https://<account>.<blob|queue|table>.core.windows.net`` are derived for any
   URI not given. ``__credential=managedidentity`` with ``__clientId`` names a
   user-assigned identity; without them the app's default managed identity is used.

Pure: no SDK, no I/O. :func:`parse_storage_connection` raises one ``ValueError`` that
names the settings to fix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlparse

DEFAULT_CONNECTION = "AzureWebJobsStorage"
MANAGED_IDENTITY = "managedidentity"
_SERVICES = ("blob", "queue", "table")
_ACCOUNT_NAME = re.compile(r"[a-z0-9]{3,24}")
_ENDPOINT_KEYS = {"blob": "blobendpoint", "queue": "queueendpoint"}


@dataclass(frozen=True)
class StorageConnection:
    """How to reach the storage account: a connection string, or service URIs + identity.

    Attributes:
        setting: the connection's setting name (``AzureWebJobsStorage``), for messages.
        connection_string: the connection string, or None for an identity connection.
            A secret: left out of ``repr``.
        blob_service_uri: the blob endpoint (identity connections only).
        queue_service_uri: the queue endpoint (identity connections only).
        table_service_uri: the table endpoint, if given or derivable.
        client_id: the user-assigned managed identity's client id, if one is named.
    """

    setting: str
    connection_string: str | None = field(default=None, repr=False)
    blob_service_uri: str | None = None
    queue_service_uri: str | None = None
    table_service_uri: str | None = None
    client_id: str | None = None

    @property
    def uses_identity(self) -> bool:
        """True when the SDK clients need a token credential rather than the string."""
        return self.connection_string is None

    def describe(self) -> str:
        """A log-safe description: the account or endpoint, never a key or SAS."""
        if self.connection_string is not None:
            account = _connection_fields(self.connection_string).get("accountname", "")
            return f"{self.setting} connection string (account {account or 'from endpoints'})"
        identity = f"user-assigned {self.client_id}" if self.client_id else "default"
        return f"{self.setting} identity connection to {self.queue_service_uri} ({identity})"


def parse_storage_connection(
    environ: Mapping[str, str], setting: str = DEFAULT_CONNECTION
) -> StorageConnection:
    """The storage connection the host uses for ``setting``, read from ``environ``.

    Args:
        environ: the app settings (``os.environ`` in the app, a dict in tests).
        setting: the connection's name, ``AzureWebJobsStorage`` for the host's storage.

    Raises:
        ValueError: no usable connection; the message names the settings to set or fix
            and never quotes a connection string.
    """
    text = environ.get(setting, "").strip()
    if text:
        _check_connection_string(text, setting)
        return StorageConnection(setting=setting, connection_string=text)
    return _identity_connection(environ, setting)


def _identity_connection(environ: Mapping[str, str], setting: str) -> StorageConnection:
    def value(suffix: str) -> str:
        return environ.get(f"{setting}__{suffix}", "").strip()

    problems: list[str] = []
    account = value("accountName")
    if account and not _ACCOUNT_NAME.fullmatch(account):
        problems.append(f"{setting}__accountName must be 3-24 lower-case letters and digits")
        account = ""
    uris: dict[str, str | None] = {}
    for service in _SERVICES:
        name = f"{setting}__{service}ServiceUri"
        given = value(f"{service}ServiceUri")
        if given and not _is_https_url(given):
            problems.append(f"{name} must be an https:// URL")
        derived = f"https://{account}.{service}.core.windows.net" if account else None
        uris[service] = given.rstrip("/") if given else derived
    missing = [service for service in ("blob", "queue") if not uris[service]]
    if missing and not problems:
        if not any(value(f"{service}ServiceUri") for service in _SERVICES):
            problems.append(
                f"no storage connection: set {setting} (a connection string) or "
                f"{setting}__accountName, or {setting}__blobServiceUri and "
                f"{setting}__queueServiceUri (identity-based)"
            )
        else:
            names = " and ".join(f"{setting}__{service}ServiceUri" for service in missing)
            problems.append(f"{names} must be set too: the retry queue needs blob and queue")
    credential = value("credential")
    client_id = value("clientId") or None
    if credential and credential.lower() != MANAGED_IDENTITY:
        problems.append(f"{setting}__credential must be '{MANAGED_IDENTITY}' when set")
    if client_id and credential.lower() != MANAGED_IDENTITY:
        problems.append(
            f"{setting}__clientId needs {setting}__credential={MANAGED_IDENTITY}, "
            "as the Functions host requires"
        )
    if problems:
        raise ValueError("; ".join(problems))
    return StorageConnection(
        setting=setting,
        blob_service_uri=uris["blob"],
        queue_service_uri=uris["queue"],
        table_service_uri=uris["table"],
        client_id=client_id,
    )


def _check_connection_string(text: str, setting: str) -> None:
    """Raise unless ``text`` looks like a storage connection string (never quoting it)."""
    fields = _connection_fields(text)
    if fields.get("usedevelopmentstorage", "").lower() == "true":
        return
    has_endpoints = all(fields.get(key) for key in _ENDPOINT_KEYS.values())
    if not fields or not (fields.get("accountname") or has_endpoints):
        raise ValueError(
            f"{setting} is not a storage connection string: it needs AccountName (with "
            "AccountKey or SharedAccessSignature), BlobEndpoint and QueueEndpoint, or "
            "UseDevelopmentStorage=true"
        )


def _connection_fields(text: str) -> dict[str, str]:
    """``Key=Value;...`` pairs, keys lower-cased; {} when any part is not a pair."""
    fields: dict[str, str] = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        key, equals, value = part.partition("=")  # keys and SAS values contain '=' too
        if not equals or not key.strip():
            return {}
        fields[key.strip().lower()] = value.strip()
    return fields


def _is_https_url(text: str) -> bool:
    parsed = urlparse(text)
    return parsed.scheme == "https" and bool(parsed.netloc)
