// The flowc extension: starts `flowc lsp` when flowc is on the PATH (or
// where the `flowc.path` setting points), for diagnostics, hover, go to
// definition, references, rename, quick fixes, completion, symbols and
// formatting (on type too: `end` lines find their indent). Highlighting and
// snippets work without it.
"use strict";

const fs = require("fs");
const path = require("path");
const vscode = require("vscode");

let client;

/** The flowc executable: the setting if it is a path, else found on PATH. */
function findFlowc() {
  const configured = vscode.workspace.getConfiguration("flowc").get("path") || "flowc";
  if (configured.includes(path.sep)) {
    return fs.existsSync(configured) ? configured : undefined;
  }
  const names = process.platform === "win32" ? [`${configured}.exe`, configured] : [configured];
  for (const dir of (process.env.PATH || "").split(path.delimiter)) {
    for (const name of names) {
      const candidate = path.join(dir, name);
      try {
        fs.accessSync(candidate, fs.constants.X_OK);
        return candidate;
      } catch (_) {
        // Not here.
      }
    }
  }
  return undefined;
}

function activate(context) {
  const command = findFlowc();
  if (!command) {
    vscode.window.showInformationMessage(
      "flowc is not on the PATH: highlighting works, diagnostics need `flowc lsp`."
    );
    return;
  }
  const { LanguageClient } = require("vscode-languageclient/node");
  client = new LanguageClient(
    "flowc",
    "flowc",
    { command, args: ["lsp"] },
    { documentSelector: [{ scheme: "file", language: "flow" }] }
  );
  context.subscriptions.push({ dispose: () => client && client.stop() });
  client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate, findFlowc };
