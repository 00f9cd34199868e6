import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildBrowserBundle } from '../../scripts/build-browser.js';
import { currentCall, defineService } from '../../src/index.js';
import { onCleanup } from '../support/calculator.js';
import { withPage } from '../support/chromium.js';
import { startPageServer } from '../support/page-server.js';
import { startHttpServer } from '../support/http.js';

interface Greeter {
  hello(name: string): Promise<string>;
  count(n: number): AsyncIterable<number>;
}
const GreeterService = defineService<Greeter>('demo.Greeter', { methods: { hello: {}, count: { stream: 'server' } } });

/** The page: calls the server through the bundled browser client and shows what came back. */
function page(server: string): string {
  return `<!doctype html>
<html><body><pre id="results">pending</pre>
<script type="module">
import { createHttpClient, defineService, RpcError } from './switchyard.js';
const Calc = defineService('demo.Calculator', { version: '1.0.0', methods: { add: {}, divide: {}, slow: {}, echo: {}, notify: { oneWay: true }, fail: {} } });
const Greeter = defineService('demo.Greeter', { methods: { hello: {}, count: { stream: 'server' } } });
const client = createHttpClient({ url: ${JSON.stringify(server)} });
const calc = client.proxy(Calc);
const greeter = client.proxy(Greeter);
const out = { hasBuffer: typeof Buffer !== 'undefined', hasProcess: typeof process !== 'undefined' };
try {
  out.add = await calc.add(1, 2);
  const echoed = await calc.echo(new Uint8Array([1, 2, 255]));
  out.echo = { isUint8Array: echoed instanceof Uint8Array, bytes: Array.from(echoed) };
  try { await calc.divide(1, 0); } catch (e) { out.divide = { isRpcError: e instanceof RpcError, code: e.code, message: e.message, details: e.details }; }
  try { await calc.fail(); } catch (e) { out.fail = { name: e.name, code: e.code }; }
  try { await calc.slow.with({ timeoutMs: 100 })(5000); } catch (e) { out.deadline = e.code; }
  let received;
  out.hello = await greeter.hello.with({ metadata: { 'x-tenant': 'acme', blob: new Uint8Array([7, 8]) }, onResponseMetadata: (md) => { received = md; } })('page');
  out.servedBy = received.get('x-served-by');
  out.count = [];
  for await (const item of greeter.count(3)) out.count.push(item);
} catch (e) {
  out.unexpected = String(e);
}
document.getElementById('results').textContent = JSON.stringify(out);
// What the page shows goes back to the test.
await fetch('/report', { method: 'POST', body: document.getElementById('results').textContent });
</script>
</body></html>`;
}

describe('HTTP transport: the browser build', () => {
  it('bundles src/browser.ts for browsers, and fails loudly on a Node built-in', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'switchyard-bundle-'));
    onCleanup(t, () => rm(dir, { recursive: true, force: true }));
    await buildBrowserBundle(join(dir, 'switchyard.js'));
    const code = await readFile(join(dir, 'switchyard.js'), 'utf8');
    assert.match(code, /createHttpClient/);
    assert.doesNotMatch(code, /from ["']node:/);
    const sneaky = join(dir, 'sneaky.ts');
    await writeFile(sneaky, "import { connect } from 'node:net';\nexport const dial = connect;\n");
    await assert.rejects(buildBrowserBundle(join(dir, 'sneaky.js'), sneaky), /must not use the Node built-in "node:net"/);
    const global = join(dir, 'global.ts');
    await writeFile(global, 'export const pid = () => process.pid;\n');
    await assert.rejects(buildBrowserBundle(join(dir, 'global.js'), global), /refers to Node globals/);
  });

  it('calls a Switchyard HTTP server from a page in headless Chromium, across origins (CORS)', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'switchyard-page-'));
    onCleanup(t, () => rm(dir, { recursive: true, force: true }));
    await buildBrowserBundle(join(dir, 'switchyard.js'));

    // The page's own origin: a plain static server on another port.
    const files = new Map<string, { type: string; path: string }>([
      ['/switchyard.js', { type: 'text/javascript', path: join(dir, 'switchyard.js') }],
      ['/switchyard.js.map', { type: 'application/json', path: join(dir, 'switchyard.js.map') }],
    ]);
    const pageServer = await startPageServer(t, files);
    const pageOrigin = pageServer.origin;

    const { address } = await startHttpServer(t, {
      query: `cors=${pageOrigin}`,
      setup: (server) => server.provide(GreeterService, {
        async hello(name) {
          const call = currentCall();
          call.responseMetadata.set('x-served-by', 'switchyard');
          const blob = call.metadata.get('blob') as Uint8Array;
          return `hello ${name} of ${String(call.metadata.get('x-tenant'))} [${[...blob].join(',')}]`;
        },
        async *count(n) {
          for (let i = 1; i <= n; i++) yield i;
        },
      }),
    });
    assert.notEqual(new URL(address).origin, pageOrigin);
    pageServer.html = page(address);

    const shown = await withPage(`${pageOrigin}/`, pageServer.reported, 30_000);
    const results = JSON.parse(shown) as Record<string, unknown>;
    assert.deepEqual(results, {
      hasBuffer: false,
      hasProcess: false,
      add: 3,
      echo: { isUint8Array: true, bytes: [1, 2, 255] },
      divide: { isRpcError: true, code: 3, message: 'cannot divide by zero', details: { field: 'b', value: 0 } },
      fail: { name: 'QuotaError', code: 2 },
      deadline: 4,
      hello: 'hello page of acme [7,8]',
      servedBy: 'switchyard',
      count: [1, 2, 3],
    });
  });
});
