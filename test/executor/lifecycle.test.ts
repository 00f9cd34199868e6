import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test, type TestContext } from 'node:test';
import { Code, RpcError, WorkerPool, createServer, inWorkers, type WorkerPoolOptions } from '../../src/index.js';
import { onCleanup } from '../support/calculator.js';
import { PrimeService, type Prime } from './fixtures/prime-impl.js';
import { primeModule, startPrimeServer } from './fixtures/serve.js';
import { hasCode } from '../support/assertions.js';

function startPool(t: TestContext, options: WorkerPoolOptions = {}): WorkerPool {
  const pool = new WorkerPool(primeModule, { export: 'PrimeImpl', size: 1, ...options });
  onCleanup(t, () => pool.close());
  return pool;
}


test('errors thrown in a worker reach the remote caller with their name, message, code and details', async (t) => {
  const { prime } = await startPrimeServer(t, startPool(t).implementation<Prime>());
  await assert.rejects(prime.fail('rpc'), (error: unknown) => {
    assert.ok(error instanceof RpcError);
    assert.deepEqual([error.name, error.code, error.message, error.details], ['RpcError', Code.FAILED_PRECONDITION, 'no primes today', { limit: 7, reason: 'holiday' }]);
    return true;
  });
  await assert.rejects(prime.fail('custom'), (error: unknown) => {
    assert.ok(error instanceof RpcError);
    assert.deepEqual([error.name, error.code, error.message], ['QuotaError', Code.UNKNOWN, 'quota of 3 calls exceeded']);
    return true;
  });
  await assert.rejects(prime.fail('coded'), hasCode(Code.PERMISSION_DENIED, /^not allowed$/));
  await assert.rejects(prime.unclonable(), hasCode(Code.INTERNAL, /result of unclonable cannot be passed from the worker/));
});

test('metadata, deadline and service reach the worker, and response metadata comes back', async (t) => {
  const pool = startPool(t, { init: { region: 'eu' } });
  const { prime } = await startPrimeServer(t, pool.implementation<Prime>());
  let response: Map<string, unknown> | undefined;
  const before = Date.now();
  const seen = await prime.whoAmI.with({
    metadata: { 'x-tenant': 'acme' },
    timeoutMs: 5000,
    onResponseMetadata: (md) => (response = new Map(md)),
  })();
  assert.equal(seen.tenant, 'acme');
  assert.equal(seen.service, PrimeService.id);
  assert.deepEqual(seen.init, { region: 'eu' }, 'the class was constructed with init');
  assert.ok(seen.deadline !== undefined && seen.deadline > before && seen.deadline <= Date.now() + 5000);
  assert.notEqual(seen.thread, 0, 'it ran on a worker thread');
  assert.equal(response?.get('x-thread'), String(seen.thread));
  assert.equal(response?.get('x-after-await'), 'yes', 'workerCall() stays valid after an await');
});

test('a crashed worker is replaced: its call fails with INTERNAL, the calls waiting behind it run', async (t) => {
  const pool = startPool(t);
  const { prime } = await startPrimeServer(t, pool.implementation<Prime>());
  await pool.ready();

  const crashed = prime.crash('exit');
  const waiting = prime.countPrimes(1000);
  await assert.rejects(crashed, hasCode(Code.INTERNAL, /worker running crash crashed: worker exited with code 3/));
  assert.equal(await waiting, 168);

  await assert.rejects(prime.crash('throw'), hasCode(Code.INTERNAL, /boom outside the call/));
  assert.equal(await prime.countPrimes(1000), 168);
  assert.equal(pool.stats.restarts, 2);
  assert.equal(pool.stats.threads, 1);
});

test('a module that cannot be served makes calls fail with UNAVAILABLE saying why, without crashing anything', async (t) => {
  const pool = startPool(t, { export: 'NoSuchExport' });
  await assert.rejects(pool.ready(), hasCode(Code.UNAVAILABLE, /has no export "NoSuchExport" \(it exports .*PrimeImpl/));
  await assert.rejects(pool.run('countPrimes', [10]), (error: unknown) => hasCode(Code.UNAVAILABLE)(error) && (error as RpcError).unprocessed);

  const missing = startPool(t, { export: 'default' });
  await assert.rejects(missing.ready(), hasCode(Code.UNAVAILABLE, /no export "default"/));
});

test('an object export is served as it is; methods it lacks are UNIMPLEMENTED', async (t) => {
  const pool = startPool(t, { export: 'plainImpl' });
  assert.equal(await pool.run('twice', [21]), 42);
  await assert.rejects(pool.run('thrice', [1]), hasCode(Code.UNIMPLEMENTED));
  await assert.rejects(pool.run('toString', []), hasCode(Code.UNIMPLEMENTED));
});

test('arguments that cannot be cloned are refused with INVALID_ARGUMENT and the worker stays usable', async (t) => {
  const pool = startPool(t);
  await assert.rejects(pool.run('countPrimes', [() => 10]), hasCode(Code.INVALID_ARGUMENT, /cannot be passed to a worker/));
  assert.equal(await pool.run('countPrimes', [100]), 25);
});

test('bad pool options are refused with INVALID_ARGUMENT', () => {
  assert.throws(() => new WorkerPool(primeModule, { size: 0 }), hasCode(Code.INVALID_ARGUMENT, /size/));
  assert.throws(() => new WorkerPool(primeModule, { maxQueue: -1 }), hasCode(Code.INVALID_ARGUMENT, /maxQueue/));
  assert.throws(() => new WorkerPool('./fixtures/prime-impl.js'), hasCode(Code.INVALID_ARGUMENT, /file URL or an absolute path/));
});

test('closing the server terminates the workers of the pools it serves', async (t) => {
  const pool = startPool(t, { size: 2 });
  const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: false });
  server.provide(PrimeService, pool.implementation<Prime>());
  await server.listen();
  await pool.ready();
  assert.equal(pool.stats.threads, 2);
  await server.close();
  assert.equal(pool.stats.threads, 0);
  await assert.rejects(pool.run('countPrimes', [10]), hasCode(Code.UNAVAILABLE, /closed/));
});

/**
 * Runs the serve-and-close fixture; resolves with its exit code (null if it had to be killed) and
 * output. It is killed `killAfterMs` after it printed its result (not after it started: on a loaded
 * machine starting it can take seconds), or after 60 s if it never does.
 */
function runChild(t: TestContext, args: string[], killAfterMs: number, flags: string[] = []): Promise<{ code: number | null; stdout: string }> {
  const script = fileURLToPath(new URL('./fixtures/serve-and-close.ts', import.meta.url));
  const child = spawn(process.execPath, [...flags, ...process.execArgv, script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  onCleanup(t, () => child.kill('SIGKILL'));
  let stdout = '';
  let timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    clearTimeout(timer);
    timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  });
  return new Promise((resolve) => child.on('exit', (code) => {
    clearTimeout(timer);
    resolve({ code, stdout });
  }));
}

test('a process whose server ran a worker pool exits by itself once the server is closed', async (t) => {
  const closed = await runChild(t, [], 30_000);
  assert.equal(closed.code, 0);
  assert.deepEqual(JSON.parse(closed.stdout), { primes: 1229 });

  // the contrast: a pool nobody closes keeps its process alive
  const open = await runChild(t, ['leave-pool-open'], 3000);
  assert.deepEqual(JSON.parse(open.stdout), { primes: 1229 });
  assert.equal(open.code, null, 'killed: it would not have exited');
});

test('workers start when the process has flags that a worker may only inherit', async (t) => {
  const run = await runChild(t, [], 30_000, ['--max-old-space-size=512']);
  assert.equal(run.code, 0);
  assert.deepEqual(JSON.parse(run.stdout), { primes: 1229 });
});

test('inWorkers gives an implementation that server.provide accepts as the service type', async (t) => {
  const implementation = inWorkers<Prime>(primeModule, { export: 'PrimeImpl', size: 1 });
  onCleanup(t, () => implementation[Symbol.asyncDispose]());
  const { prime } = await startPrimeServer(t, implementation);
  assert.equal(await prime.countPrimes(100), 25);
  assert.equal(await Promise.resolve(implementation), implementation, 'it is not mistaken for a promise');
});
