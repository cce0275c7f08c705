"""Incident forwarding's settings, parsed from the app settings' text (pure).

``shared.config.settings`` calls :func:`parse_incident_settings` with the raw values and adds the
problems it returns to every other setting's, so all are reported at once.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlparse

from shared.config.desturls import ALLOW_SETTING, destination_problem

STATUSES = ("New", "Active", "Closed")
SEVERITIES = ("High", "Medium", "Low", "Informational")
CLASSIFICATIONS = ("Undetermined", "TruePositive", "BenignPositive", "FalsePositive")
OWNER_MOMENTS = ("acknowledge", "close")
MAX_TAG_CHARS = 256
SIGNL4 = "SIGNL4"
"""The SIGNL4 destination's name: its target is ``signl4:SIGNL4`` and its label ``SIGNL4``."""
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_SECRET_NAME = re.compile(r"[A-Za-z0-9-]{1,127}")
MAX_AGE_HOURS_LIMIT = 24 * 90  # Sentinel's investigation window
DEFAULT_ARM_AUDIENCE = "https://management.azure.com"
DEFAULT_SOURCE = "default"
"""The id of the source the single-workspace settings (``SENTINEL_*``) describe: its state,
SIGNL4 ids and retry payloads are unprefixed, as before ``INCIDENT_SOURCES`` existed."""
SENTINEL_KIND = "sentinel"
GRAPH_KIND = "graph"
SOURCE_KINDS = (SENTINEL_KIND, GRAPH_KIND)
DEFAULT_GRAPH_ENDPOINT = "https://graph.microsoft.com"


def arm_audience(endpoint: str) -> str:
    """The token audience for ARM at ``endpoint``: itself for ``management.*`` hosts
    (sovereign clouds), else the public cloud's (a local emulator)."""
    host = urlparse(endpoint).hostname or ""
    return endpoint.rstrip("/") if host.startswith("management.") else DEFAULT_ARM_AUDIENCE


@dataclass(frozen=True)
class WebhookDestination:
    """A signed-webhook destination: its name (also its label), URL and Key Vault secret."""

    name: str
    url: str
    secret_name: str


@dataclass(frozen=True)
class IncidentSettings:
    """Where the incidents are and which to forward where.

    ``enabled`` is false while the workspace is not named (then nothing polls).
    """

    subscription_id: str = ""
    resource_group: str = ""
    workspace_name: str = ""
    arm_endpoint: str = "https://management.azure.com"
    poll_schedule: str = "0 */5 * * * *"
    statuses: frozenset[str] = frozenset({"New"})
    severities: frozenset[str] | None = None
    max_age: timedelta = timedelta(hours=24)
    label: str | None = None
    signl4_webhook_base: str = "https://connect.signl4.com/webhook/"
    signl4_team_secret_name: str = "signl4-team-secret"  # noqa: S105  # a Key Vault name
    signl4_callback_token_name: str = "signl4-callback-token"  # noqa: S105  # a name too
    signl4_close_classification: str = "Undetermined"
    signl4_tag: str = SIGNL4
    """SIGNL4_TAG: the label an incident SIGNL4 took gets; empty: none."""
    signl4_owner_on: frozenset[str] = frozenset(OWNER_MOMENTS)
    """SIGNL4_OWNER_ON: on which SIGNL4 events the responder becomes the owner."""
    augment: bool = True
    """INCIDENT_AUGMENT: read alerts and entities for what destinations get."""
    webhook_tags: bool = True
    """WEBHOOK_TAGS: label incidents with the webhook destinations that took them."""
    webhooks: tuple[WebhookDestination, ...] = ()
    source_id: str = DEFAULT_SOURCE
    """The source's id in ``INCIDENT_SOURCES`` (``default``: the ``SENTINEL_*`` workspace)."""
    kind: str = SENTINEL_KIND
    """``sentinel`` (ARM, one workspace) or ``graph`` (Microsoft Graph security incidents)."""
    graph_endpoint: str = DEFAULT_GRAPH_ENDPOINT
    """GRAPH_ENDPOINT: Microsoft Graph's base URL (the ``graph`` kind only)."""
    cases: bool = True
    """Whether Kibana's case routes write to this source (a Sentinel one only)."""

    @property
    def enabled(self) -> bool:
        """True when a workspace is configured (or the source is Graph's)."""
        if self.kind == GRAPH_KIND:
            return True
        return bool(self.subscription_id and self.resource_group and self.workspace_name)

    @property
    def is_default(self) -> bool:
        """The unprefixed source (state, SIGNL4 ids and retry payloads as before)."""
        return self.source_id == DEFAULT_SOURCE

    def external_id(self, name: str) -> str:
        """The id destinations get for incident ``name``: the name itself for the default
        source, ``<source>:<name>`` for the others (SIGNL4 echoes it back)."""
        return name if self.is_default else f"{self.source_id}:{name}"

    def tag_of(self, destination: str) -> str | None:
        """The label an incident gets when ``destination`` took it (None: no label)."""
        if destination == SIGNL4:
            return self.signl4_tag or None
        return destination if self.webhook_tags else None

    def webhook(self, name: str) -> WebhookDestination | None:
        """The webhook destination called ``name``, if configured."""
        return next((w for w in self.webhooks if w.name == name), None)


def parse_incident_settings(values: dict[str, str]) -> tuple[IncidentSettings, list[str]]:
    """The settings from their text values (defaults already applied), and every problem."""
    problems: list[str] = []
    workspace = [
        values[k]
        for k in ("SENTINEL_SUBSCRIPTION_ID", "SENTINEL_RESOURCE_GROUP", "SENTINEL_WORKSPACE_NAME")
    ]
    if any(workspace) and not all(workspace):
        problems.append(
            "SENTINEL_SUBSCRIPTION_ID, SENTINEL_RESOURCE_GROUP and SENTINEL_WORKSPACE_NAME "
            "are set together or not at all"
        )
    statuses = _names(values["INCIDENT_STATUSES"], STATUSES, "INCIDENT_STATUSES", problems)
    severities = _names(values["INCIDENT_SEVERITIES"], SEVERITIES, "INCIDENT_SEVERITIES", problems)
    if not statuses:
        problems.append("INCIDENT_STATUSES must name at least one status")
    classification = values["SIGNL4_CLOSE_CLASSIFICATION"]
    if classification not in CLASSIFICATIONS:
        problems.append(f"SIGNL4_CLOSE_CLASSIFICATION must be one of {', '.join(CLASSIFICATIONS)}")
    if len(values["INCIDENT_POLL_SCHEDULE"].split()) != 6:
        problems.append("INCIDENT_POLL_SCHEDULE must be an NCRONTAB expression of six fields")
    allow_private = _allow_private(values.get(ALLOW_SETTING, ""), problems)
    base = values["SIGNL4_WEBHOOK_BASE"]
    base_problem = destination_problem(base, allow_private=allow_private) if base else None
    if base_problem is not None:
        problems.append(f"SIGNL4_WEBHOOK_BASE {base_problem}")
    tag = values.get("SIGNL4_TAG", SIGNL4).strip()
    if len(tag) > MAX_TAG_CHARS:
        problems.append(f"SIGNL4_TAG must be at most {MAX_TAG_CHARS} characters")
    owner_on = _names(
        values.get("SIGNL4_OWNER_ON", ",".join(OWNER_MOMENTS)),
        OWNER_MOMENTS,
        "SIGNL4_OWNER_ON",
        problems,
    )
    settings = IncidentSettings(
        subscription_id=workspace[0],
        resource_group=workspace[1],
        workspace_name=workspace[2],
        arm_endpoint=values["ARM_ENDPOINT"].rstrip("/"),
        graph_endpoint=values.get("GRAPH_ENDPOINT", DEFAULT_GRAPH_ENDPOINT).rstrip("/"),
        poll_schedule=values["INCIDENT_POLL_SCHEDULE"],
        statuses=statuses or frozenset({"New"}),
        severities=severities or None,
        max_age=timedelta(hours=_hours(values["INCIDENT_MAX_AGE_HOURS"], problems)),
        label=values["INCIDENT_LABEL"] or None,
        signl4_webhook_base=base if base.endswith("/") else base + "/",
        signl4_team_secret_name=values["SIGNL4_TEAM_SECRET_NAME"],
        signl4_callback_token_name=values["SIGNL4_CALLBACK_TOKEN_NAME"],
        signl4_close_classification=classification,
        signl4_tag=tag,
        signl4_owner_on=owner_on,
        augment=_flag(values.get("INCIDENT_AUGMENT", "true"), "INCIDENT_AUGMENT", problems),
        webhook_tags=_flag(values.get("WEBHOOK_TAGS", "true"), "WEBHOOK_TAGS", problems),
        webhooks=parse_webhook_destinations(
            values["WEBHOOK_DESTINATIONS"], problems, allow_private=allow_private
        ),
    )
    return settings, problems


def _allow_private(text: str, problems: list[str]) -> bool:
    value = text.strip().lower()
    if value not in {"", "true", "false", "1", "0", "yes", "no"}:
        problems.append(f"{ALLOW_SETTING} must be true or false")
    return value in {"true", "1", "yes"}


def parse_webhook_destinations(
    text: str, problems: list[str], *, allow_private: bool = False
) -> tuple[WebhookDestination, ...]:
    """``WEBHOOK_DESTINATIONS``: a JSON list of ``{"name", "url", "secretName"}``, each URL
    checked by ``shared.config.desturls`` (https, a port in range, no internal address unless
    ``allow_private``)."""
    where = "WEBHOOK_DESTINATIONS"
    try:
        document = json.loads(text or "[]")
    except ValueError:
        problems.append(f"{where} is not JSON")
        return ()
    if not isinstance(document, list):
        problems.append(f'{where} must be a JSON list of {{"name", "url", "secretName"}}')
        return ()
    found: list[WebhookDestination] = []
    for index, item in enumerate(document):
        if not isinstance(item, dict) or set(item) != {"name", "url", "secretName"}:
            problems.append(f'{where}[{index}] must have exactly "name", "url" and "secretName"')
            continue
        name, url, secret = item["name"], item["url"], item["secretName"]
        if not isinstance(name, str) or not _NAME.fullmatch(name) or name == SIGNL4:
            problems.append(f"{where}[{index}].name must be 1-64 letters, digits, '.', '_', '-'")
            continue
        url_problem = destination_problem(url, allow_private=allow_private)
        if url_problem is not None:
            problems.append(f"{where}[{index}].url {url_problem}")
            continue
        if not isinstance(secret, str) or not _SECRET_NAME.fullmatch(secret):
            problems.append(f"{where}[{index}].secretName must be a Key Vault secret name")
            continue
        if any(w.name == name for w in found):
            problems.append(f"{where}: the name {name} is used twice")
            continue
        found.append(WebhookDestination(name, url, secret))
    return tuple(found)


def _names(text: str, known: tuple[str, ...], name: str, problems: list[str]) -> frozenset[str]:
    given = frozenset(part.strip() for part in text.split(",") if part.strip())
    unknown = sorted(given - set(known))
    if unknown:
        problems.append(f"{name} names unknown value(s) {', '.join(unknown)}; known: {known}")
    return given & set(known)


def _flag(text: str, name: str, problems: list[str]) -> bool:
    value = text.strip().lower()
    if value not in ("true", "false"):
        problems.append(f"{name} must be true or false")
    return value != "false"


def _hours(text: str, problems: list[str]) -> float:
    try:
        hours = float(text)
    except ValueError:
        hours = float("nan")
    if not 0 < hours <= MAX_AGE_HOURS_LIMIT:  # NaN fails too
        problems.append(f"INCIDENT_MAX_AGE_HOURS must be above 0 and at most {MAX_AGE_HOURS_LIMIT}")
        return 24.0
    return hours
