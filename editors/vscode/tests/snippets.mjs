// Expands every snippet of snippets/flow.json with VS Code's own snippet
// parser (monaco-editor's), as the editor inserts it with its default
// text, and writes each into OUT_DIR/NAME.flow inside a workflow that
// `flowc check` can check (scripts/test-editors then checks them).
//
// Usage: node tests/snippets.mjs OUT_DIR
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SnippetParser } from 'monaco-editor/esm/vs/editor/contrib/snippet/browser/snippetParser.js';

const out = process.argv[2];
mkdirSync(out, { recursive: true });
const snippets = JSON.parse(readFileSync(new URL('../snippets/flow.json', import.meta.url)));
const parser = new SnippetParser();
// The fields the snippets' default text names.
const header = 'workflow w\n  timezone America/New_York\n  fields\n    lead_score number\n    demo_booked_at optional datetime\n  trigger when email is set\n';
const indent = (text, by) => text.split('\n').map(line => line ? by + line : line).join('\n');
for (const [name, snippet] of Object.entries(snippets)) {
  const body = Array.isArray(snippet.body) ? snippet.body.join('\n') : snippet.body;
  // As inserted: every placeholder with its default, choices their first.
  const text = parser.parse(body, true).toString();
  let source;
  if (name === 'workflow') {
    source = text.replace(/\n    $/, '\n    exit\n');
  } else if (['windows', 'goal'].includes(name)) {
    source = header + indent(text, '  ') + '\n  steps\n    exit\n';
  } else if (name === 'goto') {
    // Its default jumps back to a step labelled `label`, through a wait.
    source = header + '  steps\n    label label\n    wait 1 day\n' + indent(text, '    ') + '\n';
  } else if (name === 'exit') {
    source = header + '  steps\n' + indent(text, '    ') + '\n';
  } else {
    source = header + '  steps\n' + indent(text, '    ') + '\n    exit\n';
  }
  const file = join(out, name.replace(/[^a-z0-9]+/gi, '-') + '.flow');
  writeFileSync(file, source);
  console.log(file);
}
