"""The function app, its settings, Storage and Key Vault are wired and hardened as documented."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from shared.config.settings import DEFAULT_MAX_BODY_BYTES, SETTING_NAMES, SETTINGS
from tests.infra.bicep import (
    MAIN,
    REPO,
    Resource,
    accessor_path,
    bicep_files,
    function_call,
    module_path,
    one_resource,
    parse,
    resources,
    variables,
    walk,
)

FUNCTION = module_path("function")
STORAGE = module_path("storage")
KEY_VAULT = module_path("keyvault")

# Settings the issues fix already; shared/config/settings.py adds them as the code reading
# them lands.
ANNOUNCED_SETTINGS = frozenset(
    {
        "RETRY_QUEUE_NAME",
        "DEAD_LETTER_CONTAINER",
        "SENTINEL_SUBSCRIPTION_ID",
        "SENTINEL_RESOURCE_GROUP",
        "SENTINEL_WORKSPACE_NAME",
        "ARM_ENDPOINT",
        "INCIDENT_POLL_SCHEDULE",
        "INCIDENT_STATUSES",
        "INCIDENT_SEVERITIES",
        "INCIDENT_MAX_AGE_HOURS",
        "INCIDENT_LABEL",
        "SIGNL4_WEBHOOK_BASE",
        "SIGNL4_TEAM_SECRET_NAME",
        "SIGNL4_CALLBACK_TOKEN_NAME",
        "WEBHOOK_DESTINATIONS",
        "WALLARM_TOKEN_HEADER",
        "WALLARM_TOKEN_NAME",
        "ELASTIC_AUTH_NAME",
        "INGEST_SOURCES",
    }
)

# Functions app settings Flex Consumption rejects or ignores (functions-app-settings,
# "Flex Consumption plan deprecations").
FLEX_DEPRECATED = frozenset(
    {
        "FUNCTIONS_WORKER_RUNTIME",
        "FUNCTIONS_EXTENSION_VERSION",
        "WEBSITE_RUN_FROM_PACKAGE",
        "WEBSITE_CONTENTSHARE",
        "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
        "SCM_DO_BUILD_DURING_DEPLOYMENT",
        "ENABLE_ORYX_BUILD",
        "WEBSITE_TIME_ZONE",
        "TZ",
    }
)


def bridge_settings() -> dict[str, Any]:
    """The settings main.bicep passes for the bridge code: name -> parsed value."""
    params = parse(MAIN)["modules"]["functionApp"]["config"]["params"]
    settings: dict[str, Any] = params["bridgeSettings"]
    return settings


def host_settings() -> dict[str, Any]:
    """The settings app/function.bicep adds for the host, merged with bridgeSettings."""
    app_settings = one_resource(FUNCTION, "Microsoft.Web/sites/config")
    assert app_settings.body["name"] == "appsettings"
    merged = function_call(app_settings.body["properties"], "union")
    assert merged is not None
    assert merged["arg_1"] == "bridgeSettings"
    host: dict[str, Any] = merged["arg_2"]
    return host


def all_setting_names() -> set[str]:
    """Every app setting name the deployment sets."""
    return set(bridge_settings()) | set(host_settings())


def test_every_setting_the_code_reads_is_set() -> None:
    """shared.config.settings.SETTING_NAMES, and the announced ones, are all app settings."""
    names = all_setting_names()
    assert sorted(SETTING_NAMES - names) == []
    assert sorted(ANNOUNCED_SETTINGS - names) == []


def test_no_bridge_setting_is_unknown_to_the_code() -> None:
    """bridgeSettings holds only names the code reads or has announced."""
    assert sorted(set(bridge_settings()) - SETTING_NAMES - ANNOUNCED_SETTINGS) == []


def test_required_settings_get_a_value() -> None:
    """Settings without a default are wired to a resource or parameter, never left empty."""
    settings = bridge_settings()
    for setting in SETTINGS:
        if setting.required:
            assert settings[setting.name] not in ("", None), setting.name


def test_key_vault_challenge_check_stays_on() -> None:
    """Only the local emulators turn the Key Vault challenge check off."""
    assert bridge_settings()["KEY_VAULT_VERIFY_CHALLENGE_RESOURCE"] == "true"


def test_settings_come_from_the_resources() -> None:
    """Endpoint, DCR, vault, workspace, queue and container names come from what is deployed."""
    settings = bridge_settings()
    assert accessor_path(settings["LOGS_INGESTION_ENDPOINT"]) == [
        "dcr",
        "outputs",
        "logsIngestionEndpoint",
    ]
    assert accessor_path(settings["LOGS_INGESTION_DCR_ID"]) == ["dcr", "outputs", "immutableId"]
    assert accessor_path(settings["KEY_VAULT_URI"]) == ["keyVault", "outputs", "vaultUri"]
    assert accessor_path(settings["AZURE_CLIENT_ID"]) == ["identity", "properties", "clientId"]
    assert accessor_path(settings["SENTINEL_WORKSPACE_NAME"]) == [
        "workspace",
        "outputs",
        "workspaceName",
    ]
    assert settings["INCIDENT_POLL_SCHEDULE"] == "incidentPollSchedule"
    # One variable names each queue and container, for the resource and the setting alike.
    main_vars = variables(MAIN)
    storage_params = parse(MAIN)["modules"]["storage"]["config"]["params"]
    for setting, variable, param, value in (
        ("RETRY_QUEUE_NAME", "retryQueueName", "retryQueueName", "bridge-retries"),
        (
            "DEAD_LETTER_CONTAINER",
            "deadLetterContainerName",
            "deadLetterContainerName",
            "dead-letters",
        ),
    ):
        assert settings[setting] == variable
        assert storage_params[param] == variable
        assert main_vars[variable] == value


def test_host_storage_and_telemetry_use_the_identity() -> None:
    """AzureWebJobsStorage by identity (no connection string); Entra ID telemetry."""
    host = host_settings()
    assert host["AzureWebJobsStorage__credential"] == "managedidentity"
    assert host["AzureWebJobsStorage__clientId"] == "identityClientId"
    for service in ("blob", "queue", "table"):
        assert accessor_path(host[f"AzureWebJobsStorage__{service}ServiceUri"]) == [
            "storage",
            "properties",
            "primaryEndpoints",
            service,
        ]
    assert "AzureWebJobsStorage" not in host
    assert host["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == (
        "ClientId=${identityClientId};Authorization=AAD"
    )
    assert "APPINSIGHTS_INSTRUMENTATIONKEY" not in all_setting_names()


def test_no_setting_flex_consumption_deprecates() -> None:
    """None of the Flex-deprecated settings, and no linuxFxVersion, anywhere."""
    assert sorted(all_setting_names() & FLEX_DEPRECATED) == []
    for node in walk(one_resource(FUNCTION, "Microsoft.Web/sites").body):
        if isinstance(node, dict):
            assert "linuxFxVersion" not in node
            assert "appSettings" not in node, "settings live in the appsettings resource only"


def test_the_site_is_flex_python_https_and_identity_only() -> None:
    """FC1 plan; Python as CI tests it; HTTPS only; TLS 1.2; user-assigned identity."""
    plan = one_resource(FUNCTION, "Microsoft.Web/serverfarms").body
    assert plan["sku"] == {"tier": "FlexConsumption", "name": "FC1"}
    assert plan["properties"]["reserved"] is True

    site = one_resource(FUNCTION, "Microsoft.Web/sites").body
    properties = site["properties"]
    assert site["kind"] == "functionapp,linux"
    assert site["identity"]["type"] == "UserAssigned"
    assert properties["httpsOnly"] is True
    assert properties["siteConfig"]["minTlsVersion"] == "1.2"
    config = properties["functionAppConfig"]
    assert config["runtime"] == {"name": "python", "version": "pythonVersion"}
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert variables(FUNCTION)["pythonVersion"] == pyproject["tool"]["mypy"]["python_version"]
    storage = config["deployment"]["storage"]
    assert storage["type"] == "blobContainer"
    assert storage["authentication"] == {
        "type": "UserAssignedIdentity",
        "userAssignedIdentityResourceId": "identityId",
    }
    assert site["tags"]["function"]["parameters"]["arg_2"] == {"'azd-service-name'": "api"}

    insights = one_resource(FUNCTION, "Microsoft.Insights/components").body
    assert insights["properties"]["DisableLocalAuth"] is True


def test_storage_is_keyless_and_holds_the_queue_and_containers() -> None:
    """No shared keys, TLS 1.2, no public blobs; the containers, the queue, the health table
    and the replay table (the app's name for it: shared/adapters/replay_table.py)."""
    account = one_resource(STORAGE, "Microsoft.Storage/storageAccounts").body["properties"]
    assert account["allowSharedKeyAccess"] is False
    assert account["allowBlobPublicAccess"] is False
    assert account["minimumTlsVersion"] == "TLS1_2"
    assert account["supportsHttpsTrafficOnly"] is True
    containers = {r.body["name"] for r in _resources_of(STORAGE, "blobServices/containers")}
    assert containers == {
        "deploymentContainerName",
        "deadLetterContainerName",
        "retrySpillContainerName",
    }
    queues = {r.body["name"] for r in _resources_of(STORAGE, "queueServices/queues")}
    assert queues == {"retryQueueName"}
    tables = {r.body["name"] for r in _resources_of(STORAGE, "tableServices/tables")}
    assert tables == {"healthTableName", "${healthTableName}replays"}


def test_key_vault_is_rbac_only_and_protected() -> None:
    """Azure RBAC, soft delete, purge protection, public endpoint (no private networking half
    option: docs/deploy.md); no access policies."""
    vault = one_resource(KEY_VAULT, "Microsoft.KeyVault/vaults").body["properties"]
    assert vault["enableRbacAuthorization"] is True
    assert vault["enableSoftDelete"] is True
    assert vault["enablePurgeProtection"] is True
    assert vault["publicNetworkAccess"] == "Enabled"
    assert "accessPolicies" not in vault


def test_no_private_networking_half_option() -> None:
    """No parameter turns a public endpoint off without the private path that replaces it."""
    parameters = set(parse(MAIN)["parameters"])
    assert not parameters & {"usePrivateLinkEndpoint", "keyVaultPublicNetworkAccess"}
    for path in bicep_files():
        text = path.read_text(encoding="utf-8")
        assert "publicNetworkAccess: 'Disabled'" not in text, path.name


def _resources_of(path: Path, suffix: str) -> list[Resource]:
    return [r for r in resources(path) if r.type.endswith(suffix)]


def test_the_host_refuses_bodies_over_16_mib() -> None:
    """FUNCTIONS_REQUEST_BODY_SIZE_LIMIT is 16 MiB: above the app's own limit, far below 100 MB."""
    limit = int(host_settings()["FUNCTIONS_REQUEST_BODY_SIZE_LIMIT"])
    assert limit == 16 * 1024 * 1024
    assert limit >= DEFAULT_MAX_BODY_BYTES
