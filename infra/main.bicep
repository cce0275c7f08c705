// sentinel-bridge: the whole system in one resource-group deployment.
//
//   azd up                                   (azure.yaml at the repo root points here)
//   az deployment group create -g <rg> -f infra/main.bicep -p infra/main.parameters.json \
//     -p keyVaultCreateMode=default      (the file's ${...} values are azd's: docs/deploy.md)
//
// Plain resources only (no registry modules): they restore offline and the checks can see them.
// The only manual step after deploying is putting the SaaS secrets into Key Vault; the output
// SECRET_NAMES_TO_FILL lists them and WEBHOOK_URLS says where each SaaS console should post.
// What CI checks, and what it cannot see without a Bicep compiler: docs/deploy.md.
targetScope = 'resourceGroup'

// ---------------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------------

@description('Short prefix for every resource name (letters, digits, hyphens). A hash of the resource group keeps names unique.')
@minLength(2)
@maxLength(12)
param namePrefix string = 'sbridge'

@description('Region for every resource: one that offers Flex Consumption (FC1). An existing workspace must be in this region too: a DCR lives in its workspace\'s region.')
// Written once, here; tests/infra checks it against a vendored list with its source and date.
@allowed([
  'australiaeast'
  'australiasoutheast'
  'brazilsouth'
  'canadacentral'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'southindia'
  'spaincentral'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'ukwest'
  'westcentralus'
  'westeurope'
  'westus'
  'westus2'
  'westus3'
])
@metadata({
  azd: {
    type: 'location'
  }
})
param location string = resourceGroup().location

@description('Name of an existing Log Analytics workspace to use instead of creating one. Empty creates a new workspace.')
param existingWorkspaceName string = ''

@description('Resource group of the existing workspace (same subscription). Empty means this resource group.')
param existingWorkspaceResourceGroup string = ''

@description('SaaS sources whose webhooks are accepted; decides the webhook URLs and secret names in the outputs.')
@allowed([
  'fig'
  'wallarm'
  'elastic'
])
param sources array = [
  'fig'
  'wallarm'
  'elastic'
]

@description('Tools that sign webhooks (Standard Webhooks) on /api/ingest/{source}: source name -> {stream: \'Custom-...\', secretNames: [newest first]}. Empty accepts none.')
param ingestSources object = {}

@description('Where Sentinel incidents are sent. Microsoft Sentinel Responder is granted only when something writes back (a tag, SIGNL4\'s callback, Kibana\'s case routes); otherwise Reader.')
@allowed([
  'signl4'
])
param destinations array = []

@description('Signed-webhook destinations for incidents: [{name, url, secretName}] (secrets in Key Vault).')
param webhookDestinations array = []

@description('More incident sources (INCIDENT_SOURCES; docs/incidents.md): [{id, kind: \'sentinel\' with subscriptionId, resourceGroup and workspace, or \'graph\' for Microsoft Graph security incidents; optional filters, signl4TeamSecretName, webhooks}]. This deployment\'s workspace stays the first source (id default). A Sentinel entry in this subscription gets the same Sentinel role as this workspace, on its workspace only; other subscriptions, and entries with lighthouse true (Azure Lighthouse), get it from their owner or delegation. A graph entry needs SecurityIncident.ReadWrite.All (Read.All when nothing writes back) on Microsoft Graph, which a tenant administrator grants: azd\'s postprovision hook (docs/deploy.md).')
param incidentSources array = []

@description('How often Sentinel incidents are polled: six-field NCRONTAB (seconds first).')
param incidentPollSchedule string = '0 */5 * * * *'

@description('Days of interactive retention for a new workspace and for the custom tables.')
@minValue(30)
@maxValue(730)
param retentionInDays int = 90

@description('Days of total retention (interactive plus long-term) for the custom tables.')
@minValue(30)
@maxValue(4383)
param totalRetentionInDays int = retentionInDays

@description('default creates the Key Vault; recover restores this environment\'s soft-deleted vault (after azd down). azd\'s preprovision hook (infra/hooks/preprovision.py) sets it.')
@allowed([
  'default'
  'recover'
])
param keyVaultCreateMode string = 'default'

@description('Comma list of Fig event types to forward; empty forwards all.')
param figEventTypes string = ''

@description('Header carrying Wallarm\'s token; empty uses the app\'s default.')
param wallarmTokenHeader string = ''

@description('Kibana\'s base URL (https://kibana.example.com): makes the Kibana case links kept on incidents absolute; empty keeps them relative.')
param kibanaBaseUrl string = ''

@description('Label added to an incident SIGNL4 took; empty: none (with webhookTags false and no SIGNL4 callback or case write-back, the app only reads Sentinel).')
param signl4Tag string = 'SIGNL4'

@description('When the SIGNL4 responder becomes owner: acknowledge, close, or both (comma list); empty: never.')
param signl4OwnerOn string = 'acknowledge,close'

@description('Label incidents with the name of each webhook destination that took them.')
param webhookTags bool = true

@description('Attach the rows behind each alert (its rule query over its window, read from the workspace with the Sentinel role of the identity) to what destinations get.')
param incidentSearchResults bool = false

@description('SIGNL4 writes acknowledgements and closes back through /api/signl4/{token}; false leaves the callback token out.')
param signl4Callback bool = true

@description('Incident statuses to send (comma list); empty uses the app\'s default.')
param incidentStatuses string = ''

@description('Incident severities to send (comma list); empty uses the app\'s default.')
param incidentSeverities string = ''

@description('Ignore incidents older than this many hours; empty uses the app\'s default.')
param incidentMaxAgeHours string = ''

@description('Label the bridge puts on incidents it has sent; empty uses the app\'s default.')
param incidentLabel string = ''

@description('SIGNL4 inbound webhook base URL (the team secret from Key Vault is appended); empty uses the app\'s default.')
param signl4WebhookBase string = ''

@description('Let destination URLs be loopback, link-local or private addresses (a private deployment); false refuses them at configuration time.')
param allowPrivateDestinations bool = false

@description('Resource ID of an action group the alert rules notify; empty raises alerts in the portal only.')
param alertActionGroupId string = ''

@description('Sentinel content to deploy from content/ (analytic rules, hunting queries, ASIM parsers, the workbook), by source: fig, wallarm, elastic, and bridge (the bridge\'s own health). Empty deploys none.')
@allowed([
  'fig'
  'wallarm'
  'elastic'
  'bridge'
])
param contentSources array = [
  'fig'
  'wallarm'
  'elastic'
  'bridge'
]

@description('Fig, coming from the HTTP Data Collector API (docs/migrate.md): new keeps a fresh FigEvents_CL; migrate migrates the classic FigEvents_CL in place (azd hook) and fills its legacy columns too; alongside leaves it and adds FigEventsBridge_CL and the function FigEvents.')
@allowed([
  'new'
  'migrate'
  'alongside'
])
param figTableMode string = 'new'

@description('Wallarm, coming from the HTTP Data Collector API: new, migrate or alongside, for the classic table named by wallarmClassicTable (docs/migrate.md).')
@allowed([
  'new'
  'migrate'
  'alongside'
])
param wallarmTableMode string = 'new'

@description('The classic table Wallarm\'s retired integration wrote when a single table name was set ("WallarmEvents" -> WallarmEvents_CL).')
param wallarmClassicTable string = 'WallarmEvents_CL'

@description('Save one workspace function per legacy Wallarm per-type table (new_hits, create_user, ...), each unioning that table\'s history with the new rows of its type.')
param wallarmPerTypeFunctions bool = false

@description('Tags for every resource.')
param tags object = {}

// ---------------------------------------------------------------------------------------------
// Checks across parameters, which decorators cannot express. Each names what is wrong; any
// problem stops the deployment at validation, before anything is created: int() of text that
// is not a number fails with that text in the error. tests/infra/test_parameters.py runs
// these checks over variants of main.parameters.json.
// ---------------------------------------------------------------------------------------------

var retentionTooShort = totalRetentionInDays < retentionInDays
var workspaceGroupWithoutName = empty(existingWorkspaceName) && (length(existingWorkspaceResourceGroup) > 0)
var prefixHyphenated = startsWith(namePrefix, '-') || endsWith(namePrefix, '-')
var retentionProblems = retentionTooShort ? [
  'totalRetentionInDays must be at least retentionInDays'
] : []
var workspaceProblems = workspaceGroupWithoutName ? [
  'existingWorkspaceResourceGroup needs existingWorkspaceName'
] : []
var prefixProblems = prefixHyphenated ? [
  'namePrefix must not start or end with a hyphen'
] : []
var classicTableNamed = endsWith(wallarmClassicTable, '_CL') && (length(wallarmClassicTable) > 3)
var classicTableProblems = classicTableNamed ? [] : [
  'wallarmClassicTable must be a custom table name ending in _CL'
]
var parameterProblems = concat(retentionProblems, workspaceProblems, prefixProblems, classicTableProblems)
var parametersChecked = empty(parameterProblems) ? true : bool(int('Invalid parameters: ${join(parameterProblems, '; ')}'))

// ---------------------------------------------------------------------------------------------
// Table schemas: infra/tables/<Table>_CL.json, one line each (Bicep cannot list a folder).
// Each file becomes a custom table, a DCR stream declaration and a data flow.
// tests/infra checks that every file in infra/tables/ is listed here.
// ---------------------------------------------------------------------------------------------

var tables = [
  loadJsonContent('tables/BridgeEvents_CL.json')
  loadJsonContent('tables/BridgeHealth_CL.json')
  loadJsonContent('tables/ElasticAlerts_CL.json')
  loadJsonContent('tables/FigEvents_CL.json')
  loadJsonContent('tables/WallarmEvents_CL.json')
]

// Legacy columns (infra/tables/legacy/) and how each source treats an existing classic table:
// the table modes above, applied by app/stream.bicep (docs/migrate.md).
var noLegacy = {
  columns: []
  connectorOnlyColumns: []
  perTypeTables: []
}
var legacySchemas = {
  FigEvents_CL: loadJsonContent('tables/legacy/FigEvents_CL.json')
  WallarmEvents_CL: loadJsonContent('tables/legacy/WallarmEvents_CL.json')
}
var tableModes = {
  FigEvents_CL: {
    mode: figTableMode
    classicTable: 'FigEvents_CL'
    perTypeFunctions: false
  }
  WallarmEvents_CL: {
    mode: wallarmTableMode
    classicTable: wallarmClassicTable
    perTypeFunctions: wallarmPerTypeFunctions
  }
}

// The bridge's rules read the typed table by its name; in alongside mode with the classic
// table keeping that name, the name is the classic table's, so that source's content is left
// out (scheduled rules are validated at deployment): docs/migrate.md.
var classicKeepsTypedName = {
  fig: figTableMode == 'alongside'
  wallarm: wallarmTableMode == 'alongside' && wallarmClassicTable == 'WallarmEvents_CL'
}
var contentSourcesReadable = concat(classicKeepsTypedName.fig ? [] : [
  'fig'
], classicKeepsTypedName.wallarm ? [] : [
  'wallarm'
], [
  'elastic'
  'bridge'
])
var deployedContentSources = intersection(contentSources, contentSourcesReadable)

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

var suffix = uniqueString(subscription().id, resourceGroup().id, namePrefix)
var compactPrefix = toLower(replace(namePrefix, '-', ''))
var names = {
  identity: 'id-${namePrefix}-${suffix}'
  workspace: empty(existingWorkspaceName) ? 'log-${namePrefix}-${suffix}' : existingWorkspaceName
  appInsights: 'appi-${namePrefix}-${suffix}'
  dcr: 'dcr-${namePrefix}-${suffix}'
  dce: 'dce-${namePrefix}-${suffix}'
  storage: 'st${take(compactPrefix, 9)}${suffix}' // at most 2 + 9 + 13 = 24 characters
  keyVault: 'kv-${take(compactPrefix, 7)}-${suffix}' // at most 3 + 7 + 1 + 13 = 24 characters
  plan: 'plan-${namePrefix}-${suffix}'
  functionApp: 'func-${namePrefix}-${suffix}'
}
var workspaceResourceGroup = empty(existingWorkspaceResourceGroup) ? resourceGroup().name : existingWorkspaceResourceGroup

// Fixed names the app reads through its settings (shared/settings.py).
var retryQueueName = 'bridge-retries'
var deadLetterContainerName = 'dead-letters'
var retrySpillContainerName = 'retry-spill'
var healthTableName = 'bridgehealth'
var deploymentContainerName = 'app-package'

// Key Vault secret names. Their values are never in a template: the operator sets them.
// A source's secret is under the source's name as the sources parameter spells it.
var secretNames = {
  fig: 'fig-secret-hash'
  wallarm: 'wallarm-token'
  elastic: 'elastic-webhook-auth'
  signl4Team: 'signl4-team-secret'
  signl4Callback: 'signl4-callback-token'
}
var usesSignl4 = contains(destinations, 'signl4')
var sourceSecretNames = [for source in sources: secretNames[source]]
var ingestSecretLists = [for source in items(ingestSources): source.value.secretNames]
var ingestSecretNames = flatten(ingestSecretLists)
var webhookSecretNames = [for destination in webhookDestinations: destination.secretName]
// Responder only when something writes to Sentinel: a tag (signl4Tag, webhookTags),
// SIGNL4's callback, or Kibana's case routes (the elastic source); else Reader.
var incidentWritesBack = (usesSignl4 && (!empty(signl4Tag) || signl4Callback)) || (webhookTags && !empty(webhookDestinations)) || contains(sources, 'elastic')
// Each extra incident source with every key a role assignment reads (graph entries lack them).
var incidentSourceScopes = [for source in incidentSources: union({
  subscriptionId: ''
  resourceGroup: ''
  workspace: ''
  lighthouse: false
}, source)]
// Which get their Sentinel role here: Sentinel workspaces of this subscription, not delegated.
var incidentRoleFlags = [for source in incidentSourceScopes: source.kind == 'sentinel' && !source.lighthouse && source.subscriptionId == subscription().subscriptionId]
var graphSourceFlags = [for source in incidentSources: source.kind == 'graph']
var usesGraph = contains(graphSourceFlags, true)
var secretNamesToFill = concat(sourceSecretNames, ingestSecretNames, webhookSecretNames, usesSignl4 ? concat([secretNames.signl4Team], signl4Callback ? [secretNames.signl4Callback] : []) : [])

// ---------------------------------------------------------------------------------------------
// Modules
// ---------------------------------------------------------------------------------------------

// The app's only identity: every data-plane call (ingestion, Key Vault, Storage, ARM) uses it.
resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: names.identity
  location: location
  // Reading parametersChecked here makes a parameter problem fail validation, not later.
  tags: parametersChecked ? tags : {}
}

// Workspace (new or existing), Sentinel onboarding, the custom tables, and the Sentinel role.
// Deployed in the workspace's resource group, so an existing workspace elsewhere works too.
module workspace 'app/workspace.bicep' = {
  name: 'workspace-${suffix}'
  scope: resourceGroup(workspaceResourceGroup)
  params: {
    createWorkspace: empty(existingWorkspaceName)
    workspaceName: names.workspace
    location: location
    retentionInDays: retentionInDays
    totalRetentionInDays: totalRetentionInDays
    tables: [for i in range(0, length(tables)): streams[i].outputs.table]
    functionLists: [for i in range(0, length(tables)): streams[i].outputs.functions]
    principalId: identity.properties.principalId
    writesBack: incidentWritesBack
    tags: tags
  }
}

// The Sentinel role on each extra incident source's workspace in this subscription (the same
// role as on this deployment's workspace), on that workspace only.
module incidentRoles 'app/incident-role.bicep' = [for (source, i) in incidentSourceScopes: {
  name: take('incident-role-${i}-${suffix}', 64)
  // An entry that gets no role here deploys an empty module in this resource group.
  scope: resourceGroup(incidentRoleFlags[i] ? source.resourceGroup : resourceGroup().name)
  params: {
    assign: incidentRoleFlags[i]
    workspaceName: incidentRoleFlags[i] ? source.workspace : 'none'
    principalId: identity.properties.principalId
    writesBack: incidentWritesBack
  }
}]

// Each table's DCR stream (its name, declaration and transformation), the table to deploy
// and its legacy functions, by the source's table mode.
module streams 'app/stream.bicep' = [for table in tables: {
  name: take('stream-${table.name}-${suffix}', 64)
  params: {
    table: table
    mode: contains(tableModes, table.name) ? tableModes[table.name].mode : 'new'
    classicTable: contains(tableModes, table.name) ? tableModes[table.name].classicTable : ''
    legacy: contains(legacySchemas, table.name) ? legacySchemas[table.name] : noLegacy
    perTypeFunctions: contains(tableModes, table.name) ? tableModes[table.name].perTypeFunctions : false
  }
}]

// The DCRs (kind Direct; one per 10 streams), their error logs, alerts, and Monitoring
// Metrics Publisher on each.
module dcr 'app/dcr.bicep' = {
  name: 'dcr-${suffix}'
  params: {
    dcrName: names.dcr
    dceName: names.dce
    location: location
    workspaceId: workspace.outputs.workspaceId
    streams: [for i in range(0, length(tables)): streams[i].outputs.stream]
    principalId: identity.properties.principalId
    alertActionGroupId: alertActionGroupId
    tags: tags
  }
}

// Sentinel content from content/: rules, hunting queries, ASIM parsers and the workbook, in the
// workspace's resource group once its tables and Sentinel onboarding exist (docs/content.md).
module content 'app/content.bicep' = {
  name: 'content-${suffix}'
  scope: resourceGroup(workspaceResourceGroup)
  params: {
    workspaceName: workspace.outputs.workspaceName
    location: location
    contentSources: deployedContentSources
    tags: tags
  }
}

// Storage: host storage, the deployment package container, the retry queue, the dead letters.
module storage 'app/storage.bicep' = {
  name: 'storage-${suffix}'
  params: {
    storageName: names.storage
    location: location
    deploymentContainerName: deploymentContainerName
    deadLetterContainerName: deadLetterContainerName
    retryQueueName: retryQueueName
    retrySpillContainerName: retrySpillContainerName
    healthTableName: healthTableName
    principalId: identity.properties.principalId
    tags: tags
  }
}

// Key Vault for the SaaS secrets (RBAC only), with Key Vault Secrets User for the app.
module keyVault 'app/keyvault.bicep' = {
  name: 'keyvault-${suffix}'
  params: {
    keyVaultName: names.keyVault
    location: location
    createMode: keyVaultCreateMode
    principalId: identity.properties.principalId
    tags: tags
  }
}

// Application Insights (Entra ID auth only) and the Flex Consumption function app.
module functionApp 'app/function.bicep' = {
  name: 'function-${suffix}'
  params: {
    functionAppName: names.functionApp
    planName: names.plan
    appInsightsName: names.appInsights
    location: location
    tags: tags
    identityId: identity.id
    identityClientId: identity.properties.clientId
    identityPrincipalId: identity.properties.principalId
    workspaceId: workspace.outputs.workspaceId
    storageName: storage.outputs.storageName
    deploymentContainerName: deploymentContainerName
    // Every setting the code reads (shared/settings.py SETTINGS), by name. tests/infra checks
    // that none is missing. An empty value means the app's own default (README, Settings).
    // The host's own settings (storage, Application Insights) are added in app/function.bicep.
    bridgeSettings: {
      // Key Vault
      KEY_VAULT_URI: keyVault.outputs.vaultUri
      KEY_VAULT_VERIFY_CHALLENGE_RESOURCE: 'true'
      AZURE_CLIENT_ID: identity.properties.clientId
      // Logs Ingestion API: the DCR's own endpoint (or, with several DCRs, their shared DCE's)
      LOGS_INGESTION_ENDPOINT: dcr.outputs.logsIngestionEndpoint
      LOGS_INGESTION_DCR_ID: dcr.outputs.immutableId
      // Stream -> DCR immutable ID, one rule per 10 streams: {"Custom-FigEvents": "dcr-...", ...}
      LOGS_INGESTION_DCR_ROUTES: '{${join(dcr.outputs.routeMembers, ',')}}'
      LOGS_INGESTION_AUDIENCE: 'https://monitor.azure.com'
      MAX_BODY_BYTES: '' // empty: the app's default (1 MiB)
      MAX_ROWS_PER_REQUEST: '' // empty: the app's default (10,000 events per batch request)
      // Retries and dead letters (Storage)
      RETRY_QUEUE_NAME: retryQueueName
      RETRY_SPILL_CONTAINER: retrySpillContainerName
      DEAD_LETTER_CONTAINER: deadLetterContainerName
      DELIVERY_BUDGET_HOURS: '' // empty: the app's default (47 h, inside the 2-day TimeGenerated window)
      RETRY_BASE_SECONDS: '' // empty: the app's default (5 s, doubling, full jitter)
      RETRY_MAX_SECONDS: '' // empty: the app's default (15 minutes)
      COALESCE_WINDOW_MS: '' // empty: the app's default (5 ms)
      HEALTH_TABLE_NAME: healthTableName
      // Sentinel incidents through ARM
      SENTINEL_SUBSCRIPTION_ID: subscription().subscriptionId
      SENTINEL_RESOURCE_GROUP: workspaceResourceGroup
      SENTINEL_WORKSPACE_NAME: workspace.outputs.workspaceName
      ARM_ENDPOINT: environment().resourceManager
      INCIDENT_POLL_SCHEDULE: incidentPollSchedule
      INCIDENT_STATUSES: incidentStatuses
      INCIDENT_SEVERITIES: incidentSeverities
      INCIDENT_MAX_AGE_HOURS: incidentMaxAgeHours
      INCIDENT_LABEL: incidentLabel
      WEBHOOK_DESTINATIONS: string(webhookDestinations)
      SIGNL4_WEBHOOK_BASE: signl4WebhookBase
      ALLOW_PRIVATE_DESTINATIONS: allowPrivateDestinations ? 'true' : 'false'
      SIGNL4_TEAM_SECRET_NAME: secretNames.signl4Team
      SIGNL4_CALLBACK_TOKEN_NAME: secretNames.signl4Callback
      SIGNL4_CLOSE_CLASSIFICATION: '' // empty: the app's default (Undetermined)
      SIGNL4_TAG: signl4Tag
      SIGNL4_OWNER_ON: signl4OwnerOn
      INCIDENT_AUGMENT: '' // empty: the app's default (true)
      WEBHOOK_TAGS: webhookTags ? 'true' : 'false'
      INCIDENT_SEARCH_RESULTS: incidentSearchResults ? 'true' : 'false'
      INCIDENT_SEARCH_MAX_ROWS: '' // empty: the app's default (10 rows per alert)
      INCIDENT_SEARCH_MAX_BYTES: '' // empty: the app's default (8 KiB per alert)
      INCIDENT_SEARCH_TIMEOUT_SECONDS: '' // empty: the app's default (10 s per incident)
      LOG_ANALYTICS_ENDPOINT: '' // empty: the public cloud's; sovereign clouds set theirs
      INCIDENT_SOURCES: string(incidentSources) // [] : this deployment's workspace alone
      GRAPH_ENDPOINT: '' // empty: the app's default (https://graph.microsoft.com)
      // Sources (inbound webhooks)
      FIG_SECRET_HASH_NAME: secretNames.fig
      FIG_EVENT_TYPES: figEventTypes
      WALLARM_TOKEN_HEADER: wallarmTokenHeader
      WALLARM_TOKEN_NAME: secretNames.wallarm
      ELASTIC_AUTH_NAME: secretNames.elastic
      KIBANA_BASE_URL: kibanaBaseUrl
      INGEST_SOURCES: string(ingestSources)
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Outputs: what a person needs next. No secret values: names of secrets and plain URLs only.
// ---------------------------------------------------------------------------------------------

var baseUrl = 'https://${functionApp.outputs.defaultHostName}/api'

// azd reads these names.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_FUNCTION_NAME string = functionApp.outputs.functionAppName
output SERVICE_API_NAME string = functionApp.outputs.functionAppName

@description('Paste these into the SaaS consoles. Fig\'s Base URI must end with "/".')
output WEBHOOK_URLS object = {
  fig: contains(sources, 'fig') ? '${baseUrl}/fig/' : ''
  wallarm: contains(sources, 'wallarm') ? '${baseUrl}/wallarm' : ''
  elasticAlerts: contains(sources, 'elastic') ? '${baseUrl}/elastic/alerts' : ''
  elasticCases: contains(sources, 'elastic') ? '${baseUrl}/elastic/cases' : ''
  ingest: empty(ingestSources) ? '' : '${baseUrl}/ingest/{source}'
  signl4Callback: usesSignl4 && signl4Callback ? '${baseUrl}/signl4/{token}' : ''
}

@description('The health endpoint; call it with a function key (?code=...).')
output HEALTH_URL string = '${baseUrl}/health'

@description('The Key Vault to put the SaaS secrets in.')
output KEY_VAULT_NAME string = keyVault.outputs.keyVaultName

@description('Secret names to create in KEY_VAULT_NAME before the first webhook arrives.')
output SECRET_NAMES_TO_FILL array = secretNamesToFill

output LOGS_INGESTION_DCR_ID string = dcr.outputs.immutableId
output LOGS_INGESTION_ENDPOINT string = dcr.outputs.logsIngestionEndpoint
output SENTINEL_WORKSPACE_NAME string = workspace.outputs.workspaceName
output SENTINEL_RESOURCE_GROUP string = workspaceResourceGroup

@description('The application permission a tenant administrator grants the identity on Microsoft Graph for the graph incident sources (azd\'s postprovision hook, docs/deploy.md); empty: none needed.')
output GRAPH_INCIDENT_PERMISSION string = usesGraph ? (incidentWritesBack ? 'SecurityIncident.ReadWrite.All' : 'SecurityIncident.Read.All') : ''

@description('The app identity\'s principal (object) ID: what Lighthouse delegations and Graph permissions name.')
output AZURE_IDENTITY_PRINCIPAL_ID string = identity.properties.principalId
