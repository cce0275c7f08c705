// One table schema in, its DCR stream, the table to deploy and its legacy functions out.
// Deploys no resources: a module only because Bicep builds the object DCR streamDeclarations
// needs (keys computed from names) only with lambdas, which checkov's Bicep parser cannot
// read, and because a variable loop in dcr.bicep could not read module outputs. main.bicep
// calls this once per table and hands the results to workspace.bicep and dcr.bicep.
//
// Coming from the HTTP Data Collector API (docs/migrate.md), mode says what happens to a
// classic table that already holds the source's events:
//   new       the typed table; the DCR keeps every row as sent ('source')
//   migrate   the classic table (migrated in place by infra/hooks/migrate_tables.py) gains
//             the typed columns; the DCR fills typed and legacy columns
//   alongside the classic table stays; rows go to a typed table, and a function named after
//             the classic table without _CL unions both under the legacy names
// local/legacy.py builds the same texts in Python for the emulators and the KQL checker.

@description('One table schema as read by loadJsonContent: {name, description, columns}.')
param table object

@description('new, migrate or alongside (see above).')
@allowed([
  'new'
  'migrate'
  'alongside'
])
param mode string = 'new'

@description('The classic table the Data Collector API filled; empty: the same name as table.')
param classicTable string = ''

@description('infra/tables/legacy/<table>.json: {columns: [{name, type, description, from}], connectorOnlyColumns, perTypeTables}; empty lists when the source has no legacy table.')
param legacy object = {
  columns: []
  connectorOnlyColumns: []
  perTypeTables: []
}

@description('Also save one function per legacy per-type table (Wallarm\'s new_hits_CL -> new_hits).')
param perTypeFunctions bool = false

// The stream: 'Custom-' + the table name without '_CL' (FigEvents_CL -> Custom-FigEvents).
var baseName = substring(table.name, 0, length(table.name) - length('_CL'))
var streamName = 'Custom-${baseName}'

// A stream column is a name and a type; the description stays with the table.
var streamColumns = [for column in table.columns: {
  name: column.name
  type: column.type
}]

// Legacy columns: each filled by its KQL expression over the typed stream ('from').
var legacyAssignments = [for column in legacy.columns: '${column.name} = ${column.from}']
var legacyNames = [for column in legacy.columns: column.name]
var filledColumns = [for column in legacy.columns: {
  name: column.name
  type: column.type
  description: column.description
}]
// Columns the old connector wrote that the bridge has nothing for: kept, never filled.
var legacyTableColumns = concat(filledColumns, legacy.connectorOnlyColumns)
var legacyExtend = 'extend ${join(legacyAssignments, ', ')}'
var legacyProject = 'project TimeGenerated, EventId, ${join(legacyNames, ', ')}'

var classic = empty(classicTable) ? table.name : classicTable
var classicBase = substring(classic, 0, length(classic) - length('_CL'))
var destination = mode == 'migrate' ? classic : (mode == 'alongside' && classic == table.name ? '${baseName}Bridge_CL' : table.name)

var alongsideFunctions = mode == 'alongside' ? [
  {
    name: classicBase
    body: 'union isfuzzy=true ${classic}, (${destination} | ${legacyExtend} | ${legacyProject})'
  }
] : []
var perTypeTables = perTypeFunctions ? legacy.perTypeTables : []
// new_hits_CL -> new_hits: the event type, which names the function and filters the rows.
var perTypeKinds = [for perType in perTypeTables: substring(perType, 0, length(perType) - length('_CL'))]
var typeFunctions = [for (perType, i) in perTypeTables: {
  name: perTypeKinds[i]
  body: 'union isfuzzy=true ${perType}, (${destination} | where EventType == "${perTypeKinds[i]}" | ${legacyExtend} | ${legacyProject})'
}]

@description('{name, table, declaration, transformKql}: the stream, the table it flows into, its streamDeclarations member as JSON text ("Custom-X": {"columns": [...]}), and the flow\'s transformation.')
output stream object = {
  name: streamName
  table: destination
  declaration: '"${streamName}": ${string({ columns: streamColumns })}'
  transformKql: mode == 'migrate' ? 'source | ${legacyExtend}' : 'source'
}

@description('The table to deploy: the typed schema, plus the legacy columns when migrated.')
output table object = {
  name: destination
  description: table.description
  columns: mode == 'migrate' ? concat(table.columns, legacyTableColumns) : table.columns
}

@description('Workspace functions [{name, body}] serving legacy queries (alongside, per-type).')
output functions array = concat(alongsideFunctions, typeFunctions)
