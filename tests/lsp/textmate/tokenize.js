// Tokenises a .stack file with editors/vscode's TextMate grammar, using the same engine as VS
// Code (vscode-textmate with the Oniguruma regex library), and prints one JSON array of
// [line, text, scopes] per token. Usage: node tokenize.js GRAMMAR FILE
const fs = require('fs');
const path = require('path');
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

async function main() {
  const [grammarPath, filePath] = process.argv.slice(2);
  const wasm = fs.readFileSync(path.join(__dirname, 'node_modules/vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async () =>
      vsctm.parseRawGrammar(fs.readFileSync(grammarPath, 'utf8'), grammarPath),
  });
  const grammar = await registry.loadGrammar('source.stack');
  const out = [];
  let state = vsctm.INITIAL;
  fs.readFileSync(filePath, 'utf8').split('\n').forEach((line, n) => {
    const r = grammar.tokenizeLine(line, state);
    for (const t of r.tokens) {
      out.push([n, line.slice(t.startIndex, t.endIndex), t.scopes]);
    }
    state = r.ruleStack;
  });
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
