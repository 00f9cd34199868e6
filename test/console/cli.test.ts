// `switchyard console` as a real process: it prints its URL, serves until SIGTERM and exits 0;
// a command line that would serve without protection is refused.
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { onCleanup } from '../support/calculator.js';
import { rawRequest } from '../support/http.js';
import { runCli, startCli } from '../cli/run-cli.js';
import { TOKEN, startProvider, tempRegistry } from './support.js';

describe('switchyard console', () => {
  it('prints its URL, serves the page and the API with the token from --token-file, and exits 0 on SIGTERM', async (t) => {
    const spec = await tempRegistry(t);
    const provider = await startProvider(t, spec);
    const tokenFile = join(tmpdir(), `switchyard-console-token-${process.pid}`);
    await writeFile(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    onCleanup(t, () => rm(tokenFile, { force: true }));
    const cli = startCli(t, ['console', '--registry', spec, '--token-file', tokenFile, '--interval', '300']);
    const line = await cli.line((text) => text.startsWith('console: '));
    const url = line.slice('console: '.length);
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);

    const page = await rawRequest(url, 'GET', '/');
    assert.equal(page.status, 200);
    assert.match(page.text, /<script type="module" src="\/console\.js"><\/script>/);
    assert.equal((await rawRequest(url, 'GET', '/api/state')).status, 401);
    let providers: Array<{ address: string }> = [];
    for (let tries = 0; tries < 100 && providers.length === 0; tries++) {
      const state = await rawRequest(url, 'GET', '/api/state', { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(state.status, 200, state.text);
      providers = (state.json as { services: Array<{ providers: Array<{ address: string }> }> }).services[0]?.providers ?? [];
      if (providers.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.deepEqual(providers.map((p) => p.address), [provider.address]);

    assert.deepEqual(await cli.stop('SIGTERM'), { code: 0, signal: null });
  });

  it('refuses to listen beyond loopback without a token, a short token, and a missing --registry (exit 2)', async (t) => {
    const spec = await tempRegistry(t);
    const open = await runCli(['console', '--registry', spec, '--listen', '0.0.0.0:0']);
    assert.equal(open.code, 2, open.stderr);
    assert.match(open.stderr, /only with a token/);
    const short = await runCli(['console', '--registry', spec, '--token', 'short']);
    assert.equal(short.code, 2, short.stderr);
    assert.match(short.stderr, /at least 16 characters/);
    const none = await runCli(['console']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /--registry is required/);
    const help = await runCli(['--help']);
    assert.match(help.stdout, /console --registry <registry>/);
  });
});
