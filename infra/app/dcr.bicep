// The data collection rule every row goes through, kind Direct: it has its own logs-ingestion
// endpoint, so no data collection endpoint (DCE) is needed while one rule is enough.
// Also: its error log (DCRLogErrors), alerts on dropped rows and logged errors, and
// Monitoring Metrics Publisher for the app's identity on this rule only.

param dcrName string
param dceName string
param location string

@description('Resource ID of the Log Analytics workspace the tables live in.')
param workspaceId string

@description('One entry per table, from stream.bicep: {name: stream, table: <Table>_CL, declaration: JSON member of streamDeclarations, transformKql}.')
param streams array

@description('Principal (object) ID of the app\'s user-assigned identity.')
param principalId string

@description('Action group the alerts notify; empty: alerts show in the portal only.')
param alertActionGroupId string

param tags object

// Monitoring Metrics Publisher: the role the Logs Ingestion API checks.
var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

// A DCR holds at most 10 streams and 10 data flows (Azure Monitor service limits), so the
// streams are split, in order, across as many rules as needed: rule r takes streams
// 10r .. 10r+9. The first rule keeps the plain name; the others get -2, -3, ...
var streamsPerRule = 10
var ruleCount = (length(streams) + streamsPerRule - 1) / streamsPerRule

// Each Direct rule has its own ingestion endpoint, and the app has one: with several rules
// they all share one DCE instead, which serves every rule associated with it.
var sharedEndpoint = ruleCount > 1

// streamDeclarations is an object keyed by stream name; it is assembled from the JSON members
// stream.bicep wrote, because Bicep builds an object with computed keys only with a lambda:
//   {"Custom-FigEvents": {"columns": [{"name": "TimeGenerated", "type": "datetime"}, ...]}, ...}
var declarationMembers = [for stream in streams: stream.declaration]

var workspaceDestination = 'workspace'
var actions = empty(alertActionGroupId) ? [] : [
  {
    actionGroupId: alertActionGroupId
  }
]

// With several rules: one DCE every rule sends through (public, like the Direct rule's own
// endpoint; private networking is not offered: docs/deploy.md).
resource dce 'Microsoft.Insights/dataCollectionEndpoints@2023-03-11' = if (sharedEndpoint) {
  name: dceName
  location: location
  tags: tags
  properties: {
    networkAcls: {
      publicNetworkAccess: 'Enabled'
    }
  }
}

resource dcrs 'Microsoft.Insights/dataCollectionRules@2023-03-11' = [for r in range(0, ruleCount): {
  name: r == 0 ? dcrName : '${dcrName}-${r + 1}'
  location: location
  tags: tags
  kind: 'Direct'
  properties: {
    dataCollectionEndpointId: sharedEndpoint ? dce.id : null
    streamDeclarations: json('{${join(take(skip(declarationMembers, r * streamsPerRule), streamsPerRule), ',')}}')
    destinations: {
      logAnalytics: [
        {
          name: workspaceDestination
          workspaceResourceId: workspaceId
        }
      ]
    }
    // One flow per table. Its transformKql ('source', or in a table's migrate mode 'source |
    // extend <legacy columns>': stream.bicep) keeps every row and every column as sent: the
    // event's own TimeGenerated is kept (never overwritten with now()).
    dataFlows: [for stream in take(skip(streams, r * streamsPerRule), streamsPerRule): {
      streams: [
        stream.name
      ]
      destinations: [
        workspaceDestination
      ]
      transformKql: stream.transformKql
      outputStream: 'Custom-${stream.table}'
    }]
  }
}]

// Each rule's errors (rows or values it dropped or changed) go to DCRLogErrors in the workspace.
resource dcrErrors 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = [for r in range(0, ruleCount): {
  name: 'dcr-errors-to-workspace'
  scope: dcrs[r]
  properties: {
    workspaceId: workspaceId
    logs: [
      {
        category: 'LogErrors'
        enabled: true
      }
    ]
  }
}]

// Fires when a rule drops rows ("Logs Rows Dropped per Min"): schema drift is seen, not silent.
resource rowsDroppedAlert 'Microsoft.Insights/metricAlerts@2018-03-01' = [for r in range(0, ruleCount): {
  name: '${dcrs[r].name}-rows-dropped'
  location: 'global'
  tags: tags
  properties: {
    description: 'The DCR dropped rows: a sender or the bridge no longer matches the table schema. See DCRLogErrors.'
    severity: 2
    enabled: true
    scopes: [
      dcrs[r].id
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
}]

// Fires on any DCRLogErrors entry for a rule: dropped columns, type mismatches, and rows.
resource dcrErrorsAlert 'Microsoft.Insights/scheduledQueryRules@2022-06-15' = [for r in range(0, ruleCount): {
  name: '${dcrs[r].name}-log-errors'
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
          query: 'DCRLogErrors | where _ResourceId =~ "${dcrs[r].id}"'
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
}]

// Monitoring Metrics Publisher (3913510d-42f4-4e42-8a64-420c390055eb) on these DCRs only: the
// Logs Ingestion API accepts the app's token for these rules and for nothing else.
resource dcrPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for r in range(0, ruleCount): {
  name: guid(dcrs[r].id, principalId, monitoringMetricsPublisher)
  scope: dcrs[r]
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}]

output dcrIds array = [for r in range(0, ruleCount): dcrs[r].id]

@description('The first rule\'s immutable ID: LOGS_INGESTION_DCR_ID, the default for any stream not routed.')
output immutableId string = dcrs[0].properties.immutableId

@description('"<stream>":"<immutable ID of its rule>" per stream: main.bicep joins them into LOGS_INGESTION_DCR_ROUTES.')
output routeMembers array = [for (stream, i) in streams: '"${stream.name}":"${dcrs[i / streamsPerRule].properties.immutableId}"']

output logsIngestionEndpoint string = sharedEndpoint ? dce.properties.logsIngestion.endpoint : dcrs[0].properties.endpoints.logsIngestion
