// Storage account for the Functions host, the deployment package, the retry queue and the
// dead letters. Keyless: shared key access is off, so everything uses the app's identity.

param storageName string
param location string

@description('Blob container Flex Consumption deploys the app package to.')
param deploymentContainerName string

@description('Blob container for rows that cannot be delivered (DEAD_LETTER_CONTAINER).')
param deadLetterContainerName string

@description('Queue holding rows waiting for a retry (RETRY_QUEUE_NAME).')
param retryQueueName string

@description('Blob container for retry envelopes too large for a queue message (RETRY_SPILL_CONTAINER).')
param retrySpillContainerName string

@description('Table where each app process writes its health counters (HEALTH_TABLE_NAME).')
param healthTableName string

@description('Principal (object) ID of the app\'s user-assigned identity.')
param principalId string

param tags object

// Built-in role definition GUIDs (docs: role-based-access-control/built-in-roles).
var roles = {
  blobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // Storage Blob Data Owner
  queueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88' // Storage Queue Data Contributor
  tableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3' // Storage Table Data Contributor
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  // checkov:skip=CKV_AZURE_35: the Flex Consumption app reaches storage over the public endpoint (this template adds no VNet integration); access is Entra ID only, shared keys are off
  // checkov:skip=CKV_AZURE_59: same as CKV_AZURE_35: public endpoint, identity-only access, no anonymous blob access
  // checkov:skip=CKV_AZURE_206: LRS is enough: a redeployable app package, a retry queue drained in minutes, dead letters that can be replayed
  // checkov:skip=CKV_AZURE_43: the name is computed ('st' + lower-case prefix + uniqueString, at most 24 lower-case letters and digits); the check cannot evaluate it
  name: storageName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false // no anonymous reads
    allowSharedKeyAccess: false // identity only: no account keys, no SAS
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

// Flex Consumption reads the app package from here (functionAppConfig.deployment.storage).
resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource deadLetterContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deadLetterContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource retrySpillContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: retrySpillContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

// The host creates <queue>-poison itself when a message fails maxDequeueCount times.
resource retryQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: retryQueueName
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource healthTable 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = {
  parent: tableService
  name: healthTableName
}

// The Standard Webhooks replay guard every instance shares (shared/adapters/replay_table.py:
// <HEALTH_TABLE_NAME>replays). The app would create it on first use; declared so the first
// signed webhook after a deployment does not pay for it.
resource replayTable 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = {
  parent: tableService
  name: '${healthTableName}replays'
}

// Storage Blob Data Owner (b7e6dc6d-f1e8-4753-8033-0f276bb0955b): host storage (leases,
// timer schedule monitor), the deployment package, the dead letters. Account scope: the host
// creates its own containers (azure-webjobs-hosts, azure-webjobs-secrets).
resource blobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, roles.blobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.blobDataOwner)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Storage Queue Data Contributor (974c5e8b-45b9-4653-ba55-5f855dd0fb88): the retry queue and
// the <queue>-poison queue the host creates on demand.
resource queueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, roles.queueDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.queueDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Storage Table Data Contributor (0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3): checkpoints and state
// tables (incident polling), created by the app on first use.
resource tableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, roles.tableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.tableDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output storageName string = storage.name
output blobEndpoint string = storage.properties.primaryEndpoints.blob
