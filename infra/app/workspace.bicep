// Log Analytics workspace (new or existing), Microsoft Sentinel onboarding, the custom tables,
// and the app identity's Sentinel role on the workspace.
// Deployed with scope = the workspace's resource group (see main.bicep).

@description('true creates the workspace; false uses the existing workspace named workspaceName.')
param createWorkspace bool

param workspaceName string
param location string

@description('Days of interactive retention (new workspace and custom tables).')
param retentionInDays int

@description('Days of total retention for the custom tables.')
param totalRetentionInDays int

@description('Table schemas as read by loadJsonContent from infra/tables/*.json: {name, description, columns}.')
param tables array

@description('Workspace functions for legacy queries, one list per table from stream.bicep: [[{name, body}]].')
param functionLists array = []

@description('Principal (object) ID of the app\'s user-assigned identity.')
param principalId string

@description('true when incidents are written back (Responder); false when only read (Reader).')
param writesBack bool

param tags object

// Built-in role definition GUIDs (docs: role-based-access-control/built-in-roles).
var roles = {
  sentinelResponder: '3e150937-b8fe-4cfb-8069-0eaf05ecd056' // Microsoft Sentinel Responder
  sentinelReader: '8d289c81-5878-46d4-8554-54e1e3d8b5cb' // Microsoft Sentinel Reader
}
var sentinelRole = writesBack ? roles.sentinelResponder : roles.sentinelReader

resource newWorkspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = if (createWorkspace) {
  name: workspaceName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
  }
}

// The workspace the rest refers to: the new one above, or the existing one.
resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: workspaceName
}

// Enable Microsoft Sentinel on the workspace: the onboarding API (the older SecurityInsights
// solution alone no longer counts as onboarded).
resource sentinel 'Microsoft.SecurityInsights/onboardingStates@2024-03-01' = {
  name: 'default'
  scope: workspace
  properties: {}
  dependsOn: [
    newWorkspace
  ]
}

// One custom table per schema file. Columns come from the JSON as they are (name, type,
// description); nothing is restated here. Analytics plan: Sentinel rules can query it.
resource customTables 'Microsoft.OperationalInsights/workspaces/tables@2023-09-01' = [for table in tables: {
  parent: workspace
  name: table.name
  properties: {
    plan: 'Analytics'
    retentionInDays: retentionInDays
    totalRetentionInDays: totalRetentionInDays
    schema: {
      name: table.name
      description: table.description
      columns: table.columns
    }
  }
  dependsOn: [
    newWorkspace
  ]
}]

var functions = flatten(functionLists)

// Functions that keep queries written for the Data Collector API's tables working: the alongside
// union (FigEvents) and Wallarm's per-type functions (new_hits, ...): docs/migrate.md.
resource legacyFunctions 'Microsoft.OperationalInsights/workspaces/savedSearches@2020-08-01' = [for fn in functions: {
  parent: workspace
  name: 'sentinel-bridge-${fn.name}'
  properties: {
    category: 'sentinel-bridge legacy'
    displayName: fn.name
    query: fn.body
    functionAlias: fn.name
    version: 2
  }
  dependsOn: [
    customTables
  ]
}]

// Microsoft Sentinel Responder (3e150937-b8fe-4cfb-8069-0eaf05ecd056) when incidents are written
// back, else Microsoft Sentinel Reader (8d289c81-5878-46d4-8554-54e1e3d8b5cb); workspace scope.
resource sentinelRoleAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(workspace.id, principalId, sentinelRole)
  scope: workspace
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', sentinelRole)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
  dependsOn: [
    newWorkspace
  ]
}

output workspaceId string = workspace.id
output workspaceName string = workspace.name
