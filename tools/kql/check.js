// Compiles KQL texts with Microsoft's Kusto language service (@kusto/language-service-next).
//
// Reads one JSON document on stdin:
//   {"jobs": [{"text": "...", "tables": {"T": [["Col", "string"], ...]},
//              "functions": [{"name": "f", "parameters": "(a:long=1)", "body": "{ T }"}]}]}
// and writes one JSON array on stdout: for each job, its diagnostics
//   [{"severity": "Error", "code": "KS142", "message": "...", "line": 1, "column": 22}].
// Lines and columns are 1-based. Jobs with the same tables and functions share one
// GlobalState, so a whole test session's texts compile in one Node process.
// Driven from Python by tests/kql.py; see docs/content.md.
"use strict";

require("@kusto/language-service-next/bridge.js");
require("@kusto/language-service-next/Kusto.Language.Bridge.js");

/* global Kusto, Bridge */
const Symbols = Kusto.Language.Symbols;

function globalsFor(tables, functions) {
  const members = [];
  for (const [name, columns] of Object.entries(tables)) {
    const schema = "(" + columns.map(([column, type]) => `['${column}']: ${type}`).join(", ") + ")";
    members.push(new Symbols.TableSymbol.$ctor7(name, schema, null));
  }
  for (const fn of functions) {
    members.push(new Symbols.FunctionSymbol.$ctor16(fn.name, fn.parameters, fn.body, null));
  }
  const database = new Symbols.DatabaseSymbol.$ctor1("workspace", members, false);
  return Kusto.Language.GlobalState.Default.WithDatabase(database);
}

function diagnose(text, globals) {
  const code = Kusto.Language.KustoCode.ParseAndAnalyze(text, globals);
  return Bridge.toArray(code.GetDiagnostics()).map((d) => {
    const line = { v: 0 };
    const column = { v: 0 };
    code.TryGetLineAndOffset(d.Start, line, column);
    return {
      severity: String(d.Severity),
      code: String(d.Code),
      message: String(d.Message),
      line: line.v,
      column: column.v,
    };
  });
}

function main() {
  const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const cache = new Map();
  const results = input.jobs.map((job) => {
    const functions = job.functions || [];
    const key = JSON.stringify([job.tables, functions]);
    if (!cache.has(key)) cache.set(key, globalsFor(job.tables, functions));
    return diagnose(job.text, cache.get(key));
  });
  process.stdout.write(JSON.stringify(results));
}

main();
