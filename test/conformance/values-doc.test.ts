import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { valuesTableMarkdown } from '../../src/conformance/index.js';

/** The first table (a run of lines starting with `|`) under the heading `## <heading>`. */
function firstTableUnder(page: string, heading: string): string[] {
  const section = page.split(`\n## ${heading}\n`)[1]?.split('\n## ')[0];
  assert.ok(section !== undefined, `the page has a "${heading}" section`);
  const lines = section.split('\n');
  const start = lines.findIndex((line) => line.startsWith('|'));
  assert.ok(start >= 0, `the "${heading}" section holds a table`);
  const end = lines.findIndex((line, i) => i > start && !line.startsWith('|'));
  return lines.slice(start, end < 0 ? undefined : end);
}

// The page shows the table the conformance suite checks on every transport, line for line.
test('docs/calls.md "Values: what arrives" is the conformance suite\'s values table', () => {
  const page = readFileSync(new URL('../../docs/calls.md', import.meta.url), 'utf8');
  assert.deepEqual(firstTableUnder(page, 'Values: what arrives'), valuesTableMarkdown().split('\n'), 'the page must show valuesTableMarkdown() of src/conformance/values.ts');
});
