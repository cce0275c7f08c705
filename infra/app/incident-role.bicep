// The app identity's Sentinel role on one more incident source's workspace (INCIDENT_SOURCES),
// on that workspace only. Deployed in the workspace's resource group (any subscription the
// deployer may assign roles in); a customer workspace reached through Azure Lighthouse gets
// its role from the delegation instead (docs/incidents.md).

@description('false deploys nothing (an entry whose role comes from elsewhere).')
param assign bool

@description('Name of the Log Analytics workspace with Microsoft Sentinel.')
param workspaceName string

@description('Principal (object) ID of the app\'s user-assigned identity.')
param principalId string

@description('true when incidents are written back (Responder); false when only read (Reader).')
param writesBack bool

// Built-in role definition GUIDs (docs: role-based-access-control/built-in-roles).
var roles = {
  sentinelResponder: '3e150937-b8fe-4cfb-8069-0eaf05ecd056' // Microsoft Sentinel Responder
  sentinelReader: '8d289c81-5878-46d4-8554-54e1e3d8b5cb' // Microsoft Sentinel Reader
}
var sentinelRole = writesBack ? roles.sentinelResponder : roles.sentinelReader

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: workspaceName
}

// Microsoft Sentinel Responder (3e150937-b8fe-4cfb-8069-0eaf05ecd056) when incidents are written
// back, else Microsoft Sentinel Reader (8d289c81-5878-46d4-8554-54e1e3d8b5cb); workspace scope.
resource sentinelRoleAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (assign) {
  name: guid(workspace.id, principalId, sentinelRole)
  scope: workspace
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', sentinelRole)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
