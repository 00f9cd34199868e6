import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startExampleServer } from '../../examples/http.js';
import { statusTable } from '../../src/transport/http/status-map.js';
import { onCleanup } from '../support/calculator.js';

const DOC_ADDRESS = 'http://127.0.0.1:8080';

interface Example {
  commands: string;
  expected: string;
}

/** Every ```sh block with a curl command in it, paired with the ```text block right after it. */
function curlExamples(markdown: string): Example[] {
  const blocks = [...markdown.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1], body: m[2]!, end: m.index + m[0].length, start: m.index }));
  const examples: Example[] = [];
  for (let i = 0; i < blocks.length - 1; i++) {
    const block = blocks[i]!;
    const next = blocks[i + 1]!;
    if (block.lang !== 'sh' || !/\bcurl\b/.test(block.body)) continue;
    assert.equal(next.lang, 'text', `the curl block ending at ${block.end} is not followed by its output`);
    assert.equal(markdown.slice(block.end, next.start).trim(), '', 'only blank lines between a command and its output');
    examples.push({ commands: block.body, expected: next.body });
  }
  return examples;
}

const normal = (text: string) => text.replaceAll('\r', '').split('\n').map((line) => line.trimEnd()).join('\n').trim();

describe('docs/http.md', () => {
  it('prints what the page shows for each of its curl commands, run against examples/http.ts', async (t) => {
    const { server, address } = await startExampleServer('http://127.0.0.1:0?cors=http://localhost:3000');
    onCleanup(t, () => server.close({ timeoutMs: 2000 }));
    const examples = curlExamples(await readFile(new URL('../../docs/http.md', import.meta.url), 'utf8'));
    assert.ok(examples.length >= 12, `found only ${examples.length} curl examples`);
    for (const example of examples) {
      const script = `set -o pipefail\n${example.commands.replaceAll(DOC_ADDRESS, address)}`;
      const { stdout } = await promisify(execFile)('bash', ['-c', script], { timeout: 10_000, maxBuffer: 1 << 20 });
      assert.equal(normal(stdout), normal(example.expected), `output of:\n${example.commands}`);
    }
  });

  it('shows the code ↔ status table exactly as the transport uses it', async () => {
    const markdown = await readFile(new URL('../../docs/http.md', import.meta.url), 'utf8');
    const rows = [...markdown.matchAll(/^\| `([A-Z_]+)` \| (\d+) \| ([\d, ]*?) *\|$/gm)].map((m) => [m[1], Number(m[2]), m[3] === '' ? [] : m[3]!.split(', ').map(Number)]);
    assert.deepEqual(rows, statusTable());
  });
});
