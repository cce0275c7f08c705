// Sentinel content from content/: analytic rules, hunting queries, ASIM parsers (workspace
// functions) and the sentinel-bridge workbook. Deployed with scope = the workspace's resource
// group (see main.bicep), after the workspace module (tables, Sentinel onboarding).
//
// Every item is read from its file in content/ (loadYamlContent / loadJsonContent): nothing is
// restated here. Bicep cannot list a folder, so each file is named once below;
// tests/infra/test_content.py checks that every file in content/ is, and that the YAML uses
// only what this module translates (durations in m or h, triggerOperator gt/lt/eq/ne).
// Names are fixed (the rule's id, the parser's name) or guid(): deploying twice changes nothing.

param workspaceName string
param location string

@description('Content to deploy, by source: fig, wallarm, elastic, bridge (the bridge\'s own health). Empty deploys none.')
param contentSources array

param tags object

// Each analytic rule with the source whose switch turns it on.
var rules = [
  { source: 'fig', rule: loadYamlContent('../../content/analytic-rules/FigBruteForce.yaml') }
  { source: 'fig', rule: loadYamlContent('../../content/analytic-rules/FigSuccessAfterFailures.yaml') }
  { source: 'fig', rule: loadYamlContent('../../content/analytic-rules/FigClientUnhealthy.yaml') }
  { source: 'wallarm', rule: loadYamlContent('../../content/analytic-rules/WallarmAttacksExceeded.yaml') }
  { source: 'wallarm', rule: loadYamlContent('../../content/analytic-rules/WallarmHighRiskVulnerability.yaml') }
  { source: 'wallarm', rule: loadYamlContent('../../content/analytic-rules/WallarmIntegrationBroken.yaml') }
  { source: 'wallarm', rule: loadYamlContent('../../content/analytic-rules/WallarmIpBlockedAfterHits.yaml') }
  { source: 'elastic', rule: loadYamlContent('../../content/analytic-rules/ElasticAlert.yaml') }
  { source: 'bridge', rule: loadYamlContent('../../content/analytic-rules/BridgeDeadLetters.yaml') }
  { source: 'bridge', rule: loadYamlContent('../../content/analytic-rules/BridgeDcrErrors.yaml') }
  { source: 'bridge', rule: loadYamlContent('../../content/analytic-rules/BridgeSourceSilent.yaml') }
  { source: 'bridge', rule: loadYamlContent('../../content/analytic-rules/BridgeRetryBacklog.yaml') }
]

var huntingQueries = [
  { source: 'fig', query: loadYamlContent('../../content/hunting-queries/FigSettingChangesOffHours.yaml') }
]

// Filtering parsers (vim*) first: the parameterless ASim* parsers call them.
var filteringParsers = [
  { source: 'fig', parser: loadYamlContent('../../content/parsers/vimAuthenticationFig.yaml') }
  { source: 'wallarm', parser: loadYamlContent('../../content/parsers/vimWebSessionWallarm.yaml') }
]
var unifyingParsers = [
  { source: 'fig', parser: loadYamlContent('../../content/parsers/ASimAuthenticationFig.yaml') }
  { source: 'wallarm', parser: loadYamlContent('../../content/parsers/ASimWebSessionWallarm.yaml') }
]
// A saved search takes its parameters as one KQL list: 'name:type=default, ...'.
var filteringParameters0 = [for p in filteringParsers[0].parser.ParserParams: '${p.Name}:${p.Type}=${p.Default}']
var filteringParameters1 = [for p in filteringParsers[1].parser.ParserParams: '${p.Name}:${p.Type}=${p.Default}']
var unifyingParameters0 = [for p in unifyingParsers[0].parser.ParserParams: '${p.Name}:${p.Type}=${p.Default}']
var unifyingParameters1 = [for p in unifyingParsers[1].parser.ParserParams: '${p.Name}:${p.Type}=${p.Default}']
var filteringParserParameters = [
  join(filteringParameters0, ', ')
  join(filteringParameters1, ', ')
]
var unifyingParserParameters = [
  join(unifyingParameters0, ', ')
  join(unifyingParameters1, ', ')
]

// What the switches turn on: [item] or [] per entry, flattened (no lambdas, no for-if: the
// Bicep parsers the checks use read neither).
var scheduledLists = [for item in rules: item.rule.kind == 'Scheduled' && contains(contentSources, item.source) ? [item.rule] : []]
var nrtLists = [for item in rules: item.rule.kind == 'NRT' && contains(contentSources, item.source) ? [item.rule] : []]
var huntingLists = [for item in huntingQueries: contains(contentSources, item.source) ? [item.query] : []]
var filteringLists = [for (item, i) in filteringParsers: contains(contentSources, item.source) ? [{
  parser: item.parser
  parameters: filteringParserParameters[i]
}] : []]
var unifyingLists = [for (item, i) in unifyingParsers: contains(contentSources, item.source) ? [{
  parser: item.parser
  parameters: unifyingParserParameters[i]
}] : []]
var scheduledRules = flatten(scheduledLists)
var nrtRules = flatten(nrtLists)
var enabledHunting = flatten(huntingLists)
var enabledFiltering = flatten(filteringLists)
var enabledUnifying = flatten(unifyingLists)

// Azure-Sentinel YAML spells operators and durations short; the API wants them long.
var operators = {
  gt: 'GreaterThan'
  lt: 'LessThan'
  eq: 'Equal'
  ne: 'NotEqual'
}

// Every Sentinel alert opens an incident (the incident flows act on incidents).
var incidentConfiguration = {
  createIncident: true
  groupingConfiguration: {
    enabled: false
    reopenClosedIncident: false
    lookbackDuration: 'PT5H'
    matchingMethod: 'AllEntities'
  }
}

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: workspaceName
}

resource scheduled 'Microsoft.SecurityInsights/alertRules@2024-09-01' = [for rule in scheduledRules: {
  name: rule.id
  scope: workspace
  kind: 'Scheduled'
  properties: {
    displayName: rule.name
    description: rule.description
    severity: rule.severity
    enabled: true
    query: rule.query
    queryFrequency: 'PT${toUpper(rule.queryFrequency)}'
    queryPeriod: 'PT${toUpper(rule.queryPeriod)}'
    triggerOperator: operators[rule.triggerOperator]
    triggerThreshold: rule.triggerThreshold
    suppressionEnabled: false
    suppressionDuration: 'PT1H'
    tactics: rule.tactics
    techniques: rule.relevantTechniques
    entityMappings: contains(rule, 'entityMappings') ? rule.entityMappings : null
    customDetails: rule.customDetails
    alertDetailsOverride: rule.alertDetailsOverride
    eventGroupingSettings: rule.eventGroupingSettings
    incidentConfiguration: incidentConfiguration
    templateVersion: rule.version
  }
}]

// The NRT kind is declared only by preview API versions of alertRules so far.
resource nrt 'Microsoft.SecurityInsights/alertRules@2025-04-01-preview' = [for rule in nrtRules: {
  name: rule.id
  scope: workspace
  kind: 'NRT'
  properties: {
    displayName: rule.name
    description: rule.description
    severity: rule.severity
    enabled: true
    query: rule.query
    suppressionEnabled: false
    suppressionDuration: 'PT1H'
    tactics: rule.tactics
    techniques: rule.relevantTechniques
    entityMappings: contains(rule, 'entityMappings') ? rule.entityMappings : null
    customDetails: rule.customDetails
    alertDetailsOverride: rule.alertDetailsOverride
    eventGroupingSettings: rule.eventGroupingSettings
    incidentConfiguration: incidentConfiguration
    templateVersion: rule.version
  }
}]

resource hunting 'Microsoft.OperationalInsights/workspaces/savedSearches@2020-08-01' = [for query in enabledHunting: {
  parent: workspace
  name: query.id
  properties: {
    category: 'Hunting Queries'
    displayName: query.name
    query: query.query
    version: 2
    tags: [
      {
        name: 'description'
        value: query.description
      }
      {
        name: 'tactics'
        value: join(query.tactics, ',')
      }
      {
        name: 'techniques'
        value: join(query.relevantTechniques, ',')
      }
    ]
  }
}]

// Parsers are workspace functions: a saved search with a function alias and parameters.
resource filtering 'Microsoft.OperationalInsights/workspaces/savedSearches@2020-08-01' = [for item in enabledFiltering: {
  parent: workspace
  name: item.parser.ParserName
  properties: {
    category: 'ASIM'
    displayName: item.parser.Parser.Title
    query: item.parser.ParserQuery
    functionAlias: item.parser.ParserName
    functionParameters: item.parameters
    version: 2
  }
}]

resource unifying 'Microsoft.OperationalInsights/workspaces/savedSearches@2020-08-01' = [for item in enabledUnifying: {
  parent: workspace
  name: item.parser.ParserName
  properties: {
    category: 'ASIM'
    displayName: item.parser.Parser.Title
    query: item.parser.ParserQuery
    functionAlias: item.parser.ParserName
    functionParameters: item.parameters
    version: 2
  }
  dependsOn: [
    filtering
  ]
}]

// The workbook reads every source's table; it is deployed whenever any content is.
resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = if (!empty(contentSources)) {
  name: guid(workspace.id, 'sentinel-bridge-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'sentinel-bridge'
    category: 'sentinel'
    sourceId: workspace.id
    serializedData: string(loadJsonContent('../../content/workbooks/SentinelBridge.json'))
    version: '1.0'
  }
}

@description('Analytic rules deployed (scheduled and NRT).')
output ruleCount int = length(scheduledRules) + length(nrtRules)
