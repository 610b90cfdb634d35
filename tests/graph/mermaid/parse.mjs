// Parses Mermaid texts with Mermaid's own parser, as a renderer (GitHub's, a browser's) would,
// and prints one JSON object per file: {"file", "ok", "error", "config"}. `config` is what
// `%%{init: ...}%%` directives in the text set: anything there means text from a label was
// read as configuration. Usage: node parse.mjs FILE...
import fs from 'node:fs';
import { JSDOM } from 'jsdom';

const dom = new JSDOM('');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import('mermaid');

const out = [];
for (const file of process.argv.slice(2)) {
  const text = fs.readFileSync(file, 'utf8');
  try {
    const r = await mermaid.parse(text);
    out.push({ file, ok: true, error: null, config: r.config ?? {} });
  } catch (e) {
    out.push({ file, ok: false, error: String(e.message ?? e), config: {} });
  }
}
console.log(JSON.stringify(out));
