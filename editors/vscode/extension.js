// The VS Code client of `stackc lsp`: starts the server for .stack files. Everything else
// (diagnostics, definition, hover, completion, formatting) is the server's.
const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

let client;

function activate(context) {
  const config = vscode.workspace.getConfiguration('stackc');
  const command = config.get('path') || 'stackc';
  const serverOptions = { command, args: ['lsp'] };
  const clientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'stack' },
      { scheme: 'untitled', language: 'stack' },
    ],
    initializationOptions: { strict: config.get('strict') === true },
  };
  client = new LanguageClient('stackc', 'stackc', serverOptions, clientOptions);
  client.start().catch((err) => {
    vscode.window.showErrorMessage(
      `stackc: cannot start \`${command} lsp\` (set "stackc.path"): ${err.message || err}`
    );
  });
  context.subscriptions.push({ dispose: () => client && client.stop() });
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
