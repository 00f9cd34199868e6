// switchyard rules get, put, delete and ls against an embedded registry in a folder of this file's own.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createEmbeddedRegistry } from '../../src/registry/embedded.js';
import { MAX_RULE_BYTES } from '../../src/rules/store-keys.js';
import { TextRecorder } from '../rules/store-contract.js';
import { CLI_SOURCE, ROOT, runCli, type CliResult } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'switchyard-cli-rules-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const registry = `embedded://${join(dir, 'registry')}`;

const override = 'configVersion: v3.0\nscope: service\nkey: demo.Calculator\nenabled: true\nconfigs:\n  - side: consumer\n    parameters:\n      timeout: 500\n';

let files = 0;
function file(text: string): string {
  const path = join(dir, `rule-${++files}.yaml`);
  writeFileSync(path, text);
  return path;
}

/** `switchyard rules <args> --registry <registry>`, with `input` on standard input. */
async function rules(args: string[], input?: string): Promise<CliResult> {
  if (input === undefined) return runCli(['rules', ...args, '--registry', registry]);
  const child = spawn(process.execPath, ['--import', 'tsx', CLI_SOURCE, 'rules', ...args, '--registry', registry], { cwd: ROOT });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.end(input);
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  return { code, signal, stdout, stderr };
}

test('put writes a rule from a file, get prints it as written, ls lists it, delete removes it', async () => {
  const put = await rules(['put', 'demo.Calculator:1.0.0:', 'configurators', file(override)]);
  assert.equal(put.code, 0, put.stderr);
  assert.equal(put.stdout, `rules put: wrote configurators demo.Calculator:1.0.0: (${Buffer.byteLength(override)} bytes)\n`);
  assert.equal(put.stderr, '', 'no warning for valid YAML');

  const get = await rules(['get', 'demo.Calculator:1.0.0:', 'configurators']);
  assert.equal(get.code, 0, get.stderr);
  assert.equal(get.stdout, override);
  const getJson = await rules(['get', 'demo.Calculator:1.0.0:', 'configurators', '--json']);
  assert.deepEqual(JSON.parse(getJson.stdout), { key: 'demo.Calculator:1.0.0:', kind: 'configurators', text: override });

  await rules(['put', 'shop-app', 'tag-router', file('force: false\ntags: []\n')]);
  const ls = await rules(['ls']);
  assert.equal(ls.code, 0, ls.stderr);
  assert.deepEqual(ls.stdout.trimEnd().split('\n').map((line) => line.split(/\s{2,}/)), [
    ['KEY', 'KIND'],
    ['demo.Calculator:1.0.0:', 'configurators'],
    ['shop-app', 'tag-router'],
  ]);
  const lsJson = await rules(['ls', '--json']);
  assert.deepEqual(JSON.parse(lsJson.stdout), { rules: [{ key: 'demo.Calculator:1.0.0:', kind: 'configurators' }, { key: 'shop-app', kind: 'tag-router' }] });

  const removed = await rules(['delete', 'shop-app', 'tag-router']);
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(removed.stdout, 'rules delete: removed tag-router shop-app\n');
  const again = await rules(['delete', 'shop-app', 'tag-router', '--json']);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(JSON.parse(again.stdout), { key: 'shop-app', kind: 'tag-router', removed: false });

  const gone = await rules(['get', 'shop-app', 'tag-router']);
  assert.equal(gone.code, 1);
  assert.equal(gone.stdout, '');
  assert.match(gone.stderr, /rules get shop-app tag-router failed: NOT_FOUND: no tag-router rule for shop-app/);
});

test('put - reads the rule from standard input, keeping its bytes', async () => {
  const text = '# by hand\r\nconditions:\r\n  - method = find => host = 10.0.0.7\r\nkey: "café"\r\n';
  const put = await rules(['put', 'blue/demo.Orders:2.0.0', 'condition-router', '-'], text);
  assert.equal(put.code, 0, put.stderr);
  const get = await rules(['get', 'blue/demo.Orders:2.0.0', 'condition-router']);
  assert.equal(get.stdout, text);
});

test('a rule that is not valid YAML is written as it is, with a warning', async () => {
  const broken = 'conditions: [ => host = 1\n';
  const put = await rules(['put', 'broken-app', 'tag-router', file(broken)]);
  assert.equal(put.code, 0, put.stderr);
  assert.match(put.stderr, /^switchyard: warning: \S+rule-\d+\.yaml is not valid YAML \(.+at line \d+, column \d+\); writing it as it is\n$/);
  assert.equal((await rules(['get', 'broken-app', 'tag-router'])).stdout, broken);
});

test('a rule put from the command line reaches a process watching it', async (t) => {
  const watching = createEmbeddedRegistry({ dir: join(dir, 'registry'), pollMs: 100 });
  t.after(() => watching.close());
  const seen = new TextRecorder();
  t.after(watching.rules.watch({ key: 'live-app', kind: 'tag-router' }, seen.onChange));
  await seen.waitFor(undefined);
  assert.equal((await rules(['put', 'live-app', 'tag-router', file('force: true\n')])).code, 0);
  await seen.waitFor('force: true\n', 'the rule written by the command');
  assert.equal((await rules(['delete', 'live-app', 'tag-router'])).code, 0);
  await seen.waitFor(undefined, 'the rule removed by the command');
});

test('mistakes of the command line exit 2 with the usage; a document over the limit fails with INVALID_ARGUMENT', async () => {
  for (const args of [
    [],
    ['list'],
    ['get', 'demo.Calculator::'],
    ['get', 'demo.Calculator::', 'routers'],
    ['get', 'a*b', 'configurators'],
    ['put', 'demo.Calculator::', 'configurators', join(dir, 'missing.yaml')],
    ['ls', 'extra'],
  ]) {
    const result = await rules(args);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, /Usage: switchyard rules/, args.join(' '));
  }
  const tooLarge = await rules(['put', 'big-app', 'tag-router', file(`# ${'x'.repeat(MAX_RULE_BYTES)}\n`)]);
  assert.equal(tooLarge.code, 1);
  assert.match(tooLarge.stderr, /rules put big-app tag-router failed: INVALID_ARGUMENT: rule document of 1000003 bytes: at most 1000000 bytes are allowed/);
  assert.equal((await rules(['get', 'big-app', 'tag-router'])).code, 1, 'nothing was written');
});

test('rules --help describes the actions and the kinds', async () => {
  const { code, stdout } = await runCli(['rules', '--help']);
  assert.equal(code, 0);
  assert.match(stdout, /switchyard rules put <key> <kind> <file\|->/);
  assert.match(stdout, /configurators, condition-router, tag-router/);
});
