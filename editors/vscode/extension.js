// Starts `cn lsp` for .cn files (setting `cn.server.path`, default `cn` on the PATH) through
// Microsoft's language client; highlighting comes from ../cn.tmLanguage.json.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const config = vscode.workspace.getConfiguration("cn");
  if (!config.get("server.enable", true)) {
    return;
  }
  const command = config.get("server.path", "cn");
  client = new LanguageClient(
    "cn",
    "cn language server",
    { command, args: ["lsp"] },
    { documentSelector: [{ scheme: "file", language: "cn" }] }
  );
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
