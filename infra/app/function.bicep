// Application Insights and the function app on Flex Consumption (Python, Linux), running as
// the user-assigned identity. Host storage, the deployment package and telemetry all use that
// identity: no connection string holds a key.

param functionAppName string
param planName string
param appInsightsName string
param location string
param tags object

@description('Resource ID of the app\'s user-assigned identity.')
param identityId string

@description('Client ID of the app\'s user-assigned identity.')
param identityClientId string

@description('Principal (object) ID of the app\'s user-assigned identity.')
param identityPrincipalId string

@description('Resource ID of the Log Analytics workspace Application Insights writes to.')
param workspaceId string

@description('Name of the storage account (host storage and deployment package).')
param storageName string

@description('Blob container holding the deployment package.')
param deploymentContainerName string

@description('The settings the bridge code reads (shared/settings.py), name to value.')
param bridgeSettings object

// Python version: the one CI tests with (pyproject.toml [tool.mypy] python_version).
var pythonVersion = '3.11'

// Monitoring Metrics Publisher: needed to send telemetry when local auth is disabled.
var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspaceId
    DisableLocalAuth: true // Entra ID only: the instrumentation key alone cannot send telemetry
  }
}

// Monitoring Metrics Publisher (3913510d-42f4-4e42-8a64-420c390055eb) on this Application
// Insights resource only, so the host can send telemetry with Entra ID auth.
resource telemetryPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, identityPrincipalId, monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Flex Consumption: one app per plan.
resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  // checkov:skip=CKV_AZURE_225: zone redundancy on Flex Consumption needs a region that offers it and always-ready instances; turn it on per region if needed
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true // Linux
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  // checkov:skip=CKV_AZURE_222: SaaS tools post webhooks from the internet, so the site must be public; each request is authenticated by the app (secret from Key Vault, or a function key)
  // checkov:skip=CKV_AZURE_17: SaaS webhook senders do not present client certificates
  // checkov:skip=CKV_AZURE_212: Flex Consumption scales per request (maximumInstanceCount below); there is no fixed instance minimum to fail over to
  // checkov:skip=CKV_AZURE_213: /api/health needs a function key, which the platform health check does not send; health is read by monitoring instead (docs/deploy.md)
  name: functionAppName
  location: location
  tags: union(tags, {
    'azd-service-name': 'api' // azd deploys the "api" service of azure.yaml here
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: 100
        instanceMemoryMB: 2048
        // One worker answers many webhooks at once (one event loop) and coalesces their
        // rows into shared uploads; left unset, Python may get 1 (docs/scaling.md).
        triggers: {
          http: {
            perInstanceConcurrency: 32
          }
        }
      }
      runtime: {
        name: 'python'
        version: pythonVersion
      }
    }
  }
}

// App settings: the host's (identity-based storage, telemetry) and the bridge's. None of the
// settings Flex Consumption rejects (FUNCTIONS_WORKER_RUNTIME, FUNCTIONS_EXTENSION_VERSION,
// WEBSITE_RUN_FROM_PACKAGE, WEBSITE_CONTENTSHARE, ...): runtime and package are set above.
resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  // The checks below read 'web' site config; this resource holds the app settings instead.
  // checkov:skip=CKV_AZURE_13: authentication is the app's (SaaS secrets, function keys): see the site above
  // checkov:skip=CKV_AZURE_222: the site is public for the SaaS senders: see the site above
  // checkov:skip=CKV_AZURE_63: App Service HTTP logs do not apply; Functions log to Application Insights
  // checkov:skip=CKV_AZURE_65: detailed error pages do not apply; Functions log to Application Insights
  // checkov:skip=CKV_AZURE_66: failed request tracing does not apply; Functions log to Application Insights
  // checkov:skip=CKV_AZURE_80: no .NET Framework: the app is Python
  // checkov:skip=CKV_AZURE_88: Flex Consumption has no Azure Files content share (it deploys from blob storage)
  parent: functionApp
  name: 'appsettings'
  properties: union(bridgeSettings, {
    // Host storage through the identity, not a connection string.
    AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
    AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
    AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    // Telemetry with Entra ID auth (local auth is disabled on Application Insights).
    APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
    // The host refuses larger request bodies before any code runs (its default is 100 MB).
    // 16 MiB: no route takes more (MAX_BODY_BYTES, 1 MiB by default, is checked by the app).
    FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: '16777216'
  })
  dependsOn: [
    telemetryPublisher
  ]
}

output functionAppName string = functionApp.name
output defaultHostName string = functionApp.properties.defaultHostName
