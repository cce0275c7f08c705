// The data collection rule every row goes through, kind Direct: it has its own logs-ingestion
// endpoint, so no data collection endpoint (DCE) is needed unless private link is chosen.
// Also: its error log (DCRLogErrors), alerts on dropped rows and logged errors, and
// Monitoring Metrics Publisher for the app's identity on this rule only.

param dcrName string
param dceName string
param location string

@description('Resource ID of the Log Analytics workspace the tables live in.')
param workspaceId string

@description('One entry per table, from stream.bicep: {name: stream, table: <Table>_CL, declaration: JSON member of streamDeclarations}.')
param streams array

@description('Create a DCE (public network access disabled) for Azure Monitor Private Link.')
param usePrivateLinkEndpoint bool

@description('Principal (object) ID of the app\'s user-assigned identity.')
param principalId string

@description('Action group the alerts notify; empty: alerts show in the portal only.')
param alertActionGroupId string

param tags object

// Monitoring Metrics Publisher: the role the Logs Ingestion API checks.
var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

// streamDeclarations is an object keyed by stream name; it is assembled from the JSON members
// stream.bicep wrote, because Bicep builds an object with computed keys only with a lambda:
//   {"Custom-FigEvents": {"columns": [{"name": "TimeGenerated", "type": "datetime"}, ...]}, ...}
var declarationMembers = [for stream in streams: stream.declaration]
var streamDeclarations = json('{${join(declarationMembers, ',')}}')

var workspaceDestination = 'workspace'
var actions = empty(alertActionGroupId) ? [] : [
  {
    actionGroupId: alertActionGroupId
  }
]

// Only with private link: a DCE that accepts traffic through an Azure Monitor Private Link Scope.
resource dce 'Microsoft.Insights/dataCollectionEndpoints@2023-03-11' = if (usePrivateLinkEndpoint) {
  name: dceName
  location: location
  tags: tags
  properties: {
    networkAcls: {
      publicNetworkAccess: 'Disabled'
    }
  }
}

resource dcr 'Microsoft.Insights/dataCollectionRules@2023-03-11' = {
  name: dcrName
  location: location
  tags: tags
  kind: 'Direct'
  properties: {
    dataCollectionEndpointId: usePrivateLinkEndpoint ? dce.id : null
    streamDeclarations: streamDeclarations
    destinations: {
      logAnalytics: [
        {
          name: workspaceDestination
          workspaceResourceId: workspaceId
        }
      ]
    }
    // One flow per table. transformKql 'source' keeps every row as sent: the event's own
    // TimeGenerated is kept (never overwritten with now()).
    dataFlows: [for stream in streams: {
      streams: [
        stream.name
      ]
      destinations: [
        workspaceDestination
      ]
      transformKql: 'source'
      outputStream: 'Custom-${stream.table}'
    }]
  }
}

// The rule's errors (rows or values it dropped or changed) go to DCRLogErrors in the workspace.
resource dcrErrors 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'dcr-errors-to-workspace'
  scope: dcr
  properties: {
    workspaceId: workspaceId
    logs: [
      {
        category: 'LogErrors'
        enabled: true
      }
    ]
  }
}

// Fires when the rule drops rows ("Logs Rows Dropped per Min"): schema drift is seen, not silent.
resource rowsDroppedAlert 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${dcrName}-rows-dropped'
  location: 'global'
  tags: tags
  properties: {
    description: 'The DCR dropped rows: a sender or the bridge no longer matches the table schema. See DCRLogErrors.'
    severity: 2
    enabled: true
    scopes: [
      dcr.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'RowsDropped'
          metricNamespace: 'Microsoft.Insights/dataCollectionRules'
          metricName: 'RowsDropped_Count'
          operator: 'GreaterThan'
          threshold: 0
          timeAggregation: 'Total'
        }
      ]
    }
    actions: actions
  }
}

// Fires on any DCRLogErrors entry for this rule: dropped columns, type mismatches, and rows.
resource dcrErrorsAlert 'Microsoft.Insights/scheduledQueryRules@2022-06-15' = {
  name: '${dcrName}-log-errors'
  location: location
  tags: tags
  properties: {
    description: 'The DCR logged errors (dropped rows or columns): check DCRLogErrors and the table schema.'
    severity: 2
    enabled: true
    scopes: [
      workspaceId
    ]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    // DCRLogErrors exists only after the first error: do not fail the deployment before that.
    skipQueryValidation: true
    criteria: {
      allOf: [
        {
          query: 'DCRLogErrors | where _ResourceId =~ "${dcr.id}"'
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: empty(alertActionGroupId) ? [] : [
        alertActionGroupId
      ]
    }
  }
}

// Monitoring Metrics Publisher (3913510d-42f4-4e42-8a64-420c390055eb) on this DCR only: the
// Logs Ingestion API accepts the app's token for this rule and for nothing else.
resource dcrPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(dcr.id, principalId, monitoringMetricsPublisher)
  scope: dcr
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output dcrId string = dcr.id
output immutableId string = dcr.properties.immutableId
output logsIngestionEndpoint string = usePrivateLinkEndpoint ? dce.properties.logsIngestion.endpoint : dcr.properties.endpoints.logsIngestion
