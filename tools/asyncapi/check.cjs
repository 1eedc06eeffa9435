// Validates AsyncAPI documents with the official parser: node check.cjs <node_modules dir> <file>...
// Prints one JSON line per document ({file, errors: [...]}) and exits 1 when any has an error.
const fs = require("fs");
const path = require("path");

async function main() {
  const [modules, ...files] = process.argv.slice(2);
  const { Parser } = require(require.resolve("@asyncapi/parser", { paths: [path.resolve(modules)] }));
  const parser = new Parser();
  let failed = false;
  for (const file of files) {
    const { document, diagnostics } = await parser.parse(fs.readFileSync(file, "utf8"), { source: path.resolve(file) });
    // Severity 0 is an error; warnings (1) and hints are reported but do not fail the check.
    const errors = diagnostics.filter((d) => d.severity === 0).map((d) => `${d.code}: ${d.message} at ${d.path.join("/")}`);
    const warnings = diagnostics.filter((d) => d.severity === 1).length;
    if (errors.length || !document) failed = true;
    console.log(JSON.stringify({ file, parsed: Boolean(document), errors, warnings }));
  }
  process.exit(failed ? 1 : 0);
}

main().catch((err) => { console.error(err); process.exit(2); });
