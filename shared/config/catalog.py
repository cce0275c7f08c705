"""Every app setting the bridge reads, declared once: name, default, meaning.

The README's settings table, the Bicep consistency tests and ``Settings.from_env`` all
walk ``SETTINGS``; adding a setting starts here.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MAX_BODY_BYTES = 1_048_576
DEFAULT_MAX_ROWS_PER_REQUEST = 10_000


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
        "LOGS_INGESTION_DCR_ROUTES",
        "",
        'JSON object: stream -> immutable ID of the DCR declaring it ({"Custom-X": "dcr-..."}), '
        "written by the Bicep when tables span several DCRs; unlisted streams use "
        "LOGS_INGESTION_DCR_ID",
    ),
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
        "MAX_ROWS_PER_REQUEST",
        str(DEFAULT_MAX_ROWS_PER_REQUEST),
        "Most events one batch request may carry (Wallarm, Kibana); more get 413",
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
        "KIBANA_BASE_URL",
        "",
        "Kibana's base URL (e.g. https://kibana.example.com); makes the Kibana case links "
        "kept on incidents (elastic_url_base + case id) absolute; empty keeps them relative",
    ),
    Setting(
        "INGEST_SOURCES",
        "{}",
        'JSON object: source name -> {"stream": "Custom-...", "secretNames": [newest first]} '
        "for /api/ingest/{source} (Standard Webhooks); sources not listed answer 404",
    ),
    Setting(
        "RETRY_QUEUE_NAME",
        "bridge-retries",
        "Storage queue of deliveries waiting for a retry (the host resolves it too: set it)",
    ),
    Setting(
        "RETRY_SPILL_CONTAINER",
        "retry-spill",
        "Blob container for retry envelopes too large for a queue message",
    ),
    Setting(
        "DEAD_LETTER_CONTAINER",
        "dead-letters",
        "Blob container of deliveries that cannot succeed, kept for replay",
    ),
    Setting(
        "DELIVERY_BUDGET_HOURS",
        "47",
        "How long a delivery is retried before it is dead-lettered (Log Analytics replaces a "
        "TimeGenerated older than 2 days)",
    ),
    Setting("RETRY_BASE_SECONDS", "5", "First retry delay's upper bound (full jitter, doubling)"),
    Setting("RETRY_MAX_SECONDS", "900", "Longest delay between retries (Retry-After may ask more)"),
    Setting(
        "COALESCE_WINDOW_MS",
        "5",
        "How long concurrent webhooks' rows wait to share an upload; 0 sends each at once",
    ),
    Setting(
        "HEALTH_TABLE_NAME",
        "bridgehealth",
        "Storage table where each process writes its health counters for BridgeHealth_CL",
    ),
    Setting(
        "SENTINEL_SUBSCRIPTION_ID",
        "",
        "Subscription of the Sentinel workspace whose incidents are forwarded; empty: off",
    ),
    Setting("SENTINEL_RESOURCE_GROUP", "", "Resource group of the Sentinel workspace"),
    Setting("SENTINEL_WORKSPACE_NAME", "", "Name of the Sentinel (Log Analytics) workspace"),
    Setting(
        "ARM_ENDPOINT",
        "https://management.azure.com",
        "Azure Resource Manager endpoint (sovereign clouds differ)",
    ),
    Setting(
        "INCIDENT_POLL_SCHEDULE",
        "0 */5 * * * *",
        "NCRONTAB schedule of the incident poller (the host resolves it: set it)",
    ),
    Setting("INCIDENT_STATUSES", "New", "Comma list of incident statuses forwarded"),
    Setting("INCIDENT_SEVERITIES", "", "Comma list of incident severities forwarded; empty: all"),
    Setting(
        "INCIDENT_MAX_AGE_HOURS",
        "24",
        "Incidents created longer ago than this are not forwarded (and the first poll's window)",
    ),
    Setting("INCIDENT_LABEL", "", "Forward only incidents carrying this label; empty: all"),
    Setting(
        "SIGNL4_WEBHOOK_BASE",
        "https://connect.signl4.com/webhook/",
        "SIGNL4 inbound webhook base URL; the team secret is appended",
    ),
    Setting(
        "SIGNL4_TEAM_SECRET_NAME",
        "signl4-team-secret",
        "Key Vault secret holding the SIGNL4 team secret; absent: SIGNL4 is off",
    ),
    Setting(
        "SIGNL4_CALLBACK_TOKEN_NAME",
        "signl4-callback-token",
        "Key Vault secret holding the token in /api/signl4/{token}; absent: that route is 404",
    ),
    Setting(
        "SIGNL4_CLOSE_CLASSIFICATION",
        "Undetermined",
        "Classification set when SIGNL4 closes an incident (TruePositive, BenignPositive, "
        "FalsePositive, Undetermined)",
    ),
    Setting(
        "SIGNL4_TAG",
        "SIGNL4",
        "Label added to an incident SIGNL4 took; set but empty: none (no write for SIGNL4)",
    ),
    Setting(
        "SIGNL4_OWNER_ON",
        "acknowledge,close",
        "When the SIGNL4 responder becomes the incident's owner: acknowledge, close, both "
        "(comma list); set but empty: never",
    ),
    Setting(
        "INCIDENT_AUGMENT",
        "true",
        "Add the incident's alerts and entities to what destinations get (two ARM reads each)",
    ),
    Setting(
        "INCIDENT_SEARCH_RESULTS",
        "false",
        "Attach the rows behind each alert (its rule's query over its window, read with "
        "the Log Analytics query API) to what destinations get",
    ),
    Setting("INCIDENT_SEARCH_MAX_ROWS", "10", "Rows kept per alert (at most 100)"),
    Setting("INCIDENT_SEARCH_MAX_BYTES", "8192", "JSON bytes of rows kept per alert"),
    Setting(
        "INCIDENT_SEARCH_TIMEOUT_SECONDS",
        "10",
        "Time for all of one incident's search queries; what is late is summarized",
    ),
    Setting(
        "LOG_ANALYTICS_ENDPOINT",
        "https://api.loganalytics.io",
        "The Log Analytics query API (sovereign clouds differ)",
    ),
    Setting(
        "WEBHOOK_TAGS",
        "true",
        "Label an incident with the name of each signed-webhook destination that took it; "
        "false: no write for webhooks",
    ),
    Setting(
        "WEBHOOK_DESTINATIONS",
        "[]",
        'JSON list of {"name", "url", "secretName"}: signed (Standard Webhooks) incident '
        "destinations",
    ),
    Setting(
        "INCIDENT_SOURCES",
        "",
        'JSON list of incident sources ({"id", "kind": "sentinel"|"graph", ...}, see '
        "docs/incidents.md); empty: the SENTINEL_* workspace alone",
    ),
    Setting(
        "GRAPH_ENDPOINT",
        "https://graph.microsoft.com",
        "Microsoft Graph base URL for graph incident sources (national clouds differ)",
    ),
    Setting(
        "ALLOW_PRIVATE_DESTINATIONS",
        "false",
        "true: destination URLs may be loopback, link-local or private addresses "
        "(private deployments; the local emulators)",
    ),
)

SETTING_NAMES: frozenset[str] = frozenset(s.name for s in SETTINGS)
SETTINGS_BY_NAME = {s.name: s for s in SETTINGS}
