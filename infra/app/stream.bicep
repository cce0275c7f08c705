// One table schema in, its DCR stream out. Deploys no resources: a module only because Bicep
// builds the object DCR streamDeclarations needs (keys computed from names) only with lambdas,
// which checkov's Bicep parser cannot read, and because a variable loop in dcr.bicep could
// not read module outputs. main.bicep calls this once per table and hands the results to
// dcr.bicep as a plain parameter.

@description('One table schema as read by loadJsonContent: {name, description, columns}.')
param table object

// The stream: 'Custom-' + the table name without '_CL' (FigEvents_CL -> Custom-FigEvents).
var streamName = 'Custom-${substring(table.name, 0, length(table.name) - length('_CL'))}'

// A stream column is a name and a type; the description stays with the table.
var streamColumns = [for column in table.columns: {
  name: column.name
  type: column.type
}]

@description('{name, table, declaration}: the stream, its table, and its streamDeclarations member as JSON text ("Custom-X": {"columns": [...]}).')
output stream object = {
  name: streamName
  table: table.name
  declaration: '"${streamName}": ${string({ columns: streamColumns })}'
}
