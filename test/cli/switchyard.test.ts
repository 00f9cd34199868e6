// The switchyard command itself: help, usage errors, exit statuses, and the built binary.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT, runCli, runNode } from './run-cli.js';

const COMMANDS = ['ls', 'describe', 'call', 'health', 'offline', 'online', 'watch'];

test('--help lists every command on stdout and exits 0; no command at all is a usage error', async () => {
  const help = await runCli(['--help']);
  assert.equal(help.code, 0);
  for (const command of COMMANDS) assert.match(help.stdout, new RegExp(`^ {2}${command} `, 'm'));
  assert.match(help.stdout, /Exit status: 0 done, 1 failed .*, 2 bad command line, 3 unreachable/);

  const none = await runCli([]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^Usage: switchyard <command>/);
});

test('each command has its own --help', async () => {
  const results = await Promise.all(COMMANDS.map((command) => runCli([command, '--help'])));
  results.forEach((result, at) => {
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^Usage: switchyard ${COMMANDS[at]} `));
  });
  const viaHelp = await runCli(['help', 'watch']);
  assert.match(viaHelp.stdout, /^Usage: switchyard watch /);
});

test('an unknown command prints the usage on stderr and exits 2; so do missing arguments', async () => {
  const unknown = await runCli(['frobnicate']);
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stdout, '');
  assert.match(unknown.stderr, /unknown command "frobnicate"/);
  assert.match(unknown.stderr, /Usage: switchyard <command>/);

  const missing = await runCli(['describe', 'embedded']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /switchyard describe: missing arguments/);
  assert.match(missing.stderr, /Usage: switchyard describe /);

  const badTimeout = await runCli(['ls', 'embedded', '--timeout', 'soon']);
  assert.equal(badTimeout.code, 2);
  assert.match(badTimeout.stderr, /--timeout must be a positive number of milliseconds/);
});

test('the package names the built binary, which runs (npm test builds first)', async (t) => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  assert.equal(pkg.bin.switchyard, './dist/cli/switchyard.js');
  assert.equal(pkg.bin['switchyard-proto'], './dist/cli/proto-types.js');
  const built = join(ROOT, 'dist/cli/switchyard.js');
  if (!existsSync(built)) {
    t.skip('dist/cli/switchyard.js is not built: run npm run build (npm test does)');
    return;
  }
  assert.match(readFileSync(built, 'utf8'), /^#!\/usr\/bin\/env node\n/);
  const { code, stdout } = await runNode(built, ['--help']);
  assert.equal(code, 0);
  assert.match(stdout, /^Usage: switchyard <command>/);
});
