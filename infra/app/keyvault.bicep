// Key Vault for the SaaS secrets. Azure RBAC only (no access policies), soft delete and purge
// protection on. No secret is created here: the operator sets the values after deploying
// (docs/deploy.md); main.bicep outputs the names.

param keyVaultName string
param location string

@description('default creates the vault; recover restores a soft-deleted vault of the same name (set by infra/hooks/preprovision.py).')
@allowed([
  'default'
  'recover'
])
param createMode string

@description('Principal (object) ID of the app\'s user-assigned identity.')
param principalId string

param tags object

// Key Vault Secrets User: read secret values, nothing else.
var keyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  // checkov:skip=CKV_AZURE_109: the Flex Consumption app reaches the vault over the public endpoint (no VNet integration: docs/deploy.md, Private networking); access is Entra ID with Azure RBAC only
  // checkov:skip=CKV_AZURE_189: public network access stays on for the same reason; see CKV_AZURE_109
  name: keyVaultName
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    // After azd down the name stays reserved by the soft-deleted vault (purge protection):
    // the preprovision hook finds it and deploys with recover, keeping its secrets.
    createMode: createMode
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true // Azure RBAC, no access policies
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

// Key Vault Secrets User (4633458b-17de-408a-b874-0445c86b69e6) on this vault only.
resource secretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalId, keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output keyVaultName string = vault.name
output vaultUri string = vault.properties.vaultUri
