// Tokenizes editors/tests/every-construct.flow with the TextMate grammar
// as VS Code does (vscode-textmate on the Oniguruma it ships) and checks
// every token of flowc's own reading (every-construct.tokens) against the
// scope the grammar gives its first and last character: keywords get a
// keyword scope, names never do, text is a string, and so on.
//
// Usage: node tests/scopes.mjs   (from editors/vscode; exits 1 on a mismatch)
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const here = (path) => new URL(path, import.meta.url);
await oniguruma.loadWASM(readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm')).buffer);
const registry = new vsctm.Registry({
  onigLib: Promise.resolve({
    createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
    createOnigString: (text) => new oniguruma.OnigString(text),
  }),
  loadGrammar: async () =>
    vsctm.parseRawGrammar(readFileSync(here('../syntaxes/flow.tmLanguage.json'), 'utf8'), 'flow.tmLanguage.json'),
});
const grammar = await registry.loadGrammar('source.flow');

// The scopes of every character of every line.
const lines = readFileSync(here('../../tests/every-construct.flow'), 'utf8').split('\n');
let stack = vsctm.INITIAL;
const scopes = lines.map((line) => {
  const result = grammar.tokenizeLine(line, stack);
  stack = result.ruleStack;
  const at = [];
  for (const token of result.tokens) {
    for (let i = token.startIndex; i < token.endIndex; i++) at[i] = token.scopes;
  }
  return at;
});

const keyword = /^(keyword\.|storage\.type|support\.constant|support\.function\.tool|constant\.language|constant\.other\.day|variable\.language)/;
const fits = {
  keyword: (s) => keyword.test(s.at(-1)),
  name: (s) => !keyword.test(s.at(-1)) && !/^(string|comment|constant)\./.test(s.at(-1)),
  text: (s) => s.some((x) => x.startsWith('string.')),
  number: (s) => /^constant\.(numeric|other\.phone)/.test(s.at(-1)),
  operator: (s) => /^(keyword\.operator|punctuation\.)/.test(s.at(-1)),
  filter: (s) => s.at(-1).startsWith('support.function.filter'),
  comment: (s) => s.some((x) => x.startsWith('comment.')),
};

const table = readFileSync(here('../../tests/every-construct.tokens'), 'utf8').trim().split('\n');
const wrong = [];
for (const row of table) {
  const [line, start, end, kind, ...text] = row.split(' ');
  for (const column of [Number(start), Number(end) - 1]) {
    const found = scopes[Number(line)][column] ?? ['source.flow'];
    if (!fits[kind](found)) {
      wrong.push(`line ${Number(line) + 1}, column ${column + 1}: \`${text.join(' ')}\` is a ${kind} but gets ${found.at(-1)}`);
      break;
    }
  }
}
if (wrong.length > 0) {
  console.error(`${wrong.length} of ${table.length} tokens get the wrong scope:\n${wrong.join('\n')}`);
  process.exit(1);
}
console.log(`TextMate: all ${table.length} tokens of every-construct.flow get the scope of their class`);
