import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { unpack } from 'msgpackr';
import { Code, createClient, createServer, type RpcError } from '../../src/index.js';
import { onCleanup } from '../support/calculator.js';
import { type BrokerScope, brokerScope, deadLetterQueue, startServerProcess } from '../support/rabbitmq.js';
import { JobsService, countingJobs, type RunCounts } from './fixtures/jobs.js';

// A request whose handler was running when its server died comes back from the broker marked
// `redelivered`. Run blindly, a request that crashes its server would walk through the fleet.

async function jobsScope(t: TestContext): Promise<BrokerScope> {
  return (await brokerScope(t)).uses(JobsService.id);
}

/** A Jobs server in this process that counts what it runs. */
async function countingServer(t: TestContext, scope: BrokerScope, name: string): Promise<RunCounts> {
  const runs: RunCounts = new Map();
  const server = createServer({ listen: [scope.url({ server: name })], registry: false });
  server.provide(JobsService, countingJobs(runs));
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  await server.listen();
  return runs;
}

function jobsClient(t: TestContext, scope: BrokerScope) {
  const client = createClient({ url: scope.url() });
  onCleanup(t, () => client.close({ timeoutMs: 2000 }));
  return client.proxy(JobsService);
}

test('a request that was running on a server that crashed is not run again unless idempotent: it is dead-lettered and the caller gets UNAVAILABLE', async (t) => {
  const scope = await jobsScope(t);
  const dead = await deadLetterQueue(t, scope);
  const doomed = await startServerProcess(t, 'jobs-server.ts', scope.url({ server: 'doomed', prefetch: 1 }));
  const jobs = jobsClient(t, scope);
  const outcome = jobs.charge.with({ timeoutMs: 60_000 })('c1').then(() => undefined, (error: unknown) => error as RpcError);
  await doomed.next('started charge c1');
  const runs = await countingServer(t, scope, 'next');
  await doomed.crash();

  const error = await outcome;
  assert.equal(error?.code, Code.UNAVAILABLE, `answered with UNAVAILABLE, not left to its deadline: ${String(error)}`);
  assert.match(error.message, /interrupted.*not run again/);
  assert.equal(runs.get('charge c1'), undefined, 'the next server did not run it');
  const letter = await dead.take();
  assert.equal(letter.properties.type, 'charge');
  assert.deepEqual(unpack(letter.content), ['c1']);
  assert.equal((letter.properties.headers?.['x-death'] as Array<{ reason: string }>)[0]?.reason, 'rejected');

  assert.equal(await jobs.charge.with({ timeoutMs: 10_000 })('c2'), 'c2', 'the server goes on serving');
  assert.equal(runs.get('charge c2'), 1);
});

test('a request carrying a forged x-delivery-count of 0 is still counted as interrupted when the broker redelivers it', async (t) => {
  const scope = await jobsScope(t);
  const dead = await deadLetterQueue(t, scope);
  const doomed = await startServerProcess(t, 'jobs-server.ts', scope.url({ server: 'doomed', prefetch: 1 }));
  const jobs = jobsClient(t, scope);
  const forged = jobs.charge.with({ timeoutMs: 60_000, metadata: { 'x-delivery-count': '0' } });
  const outcome = forged('c1').then(() => undefined, (error: unknown) => error as RpcError);
  await doomed.next('started charge c1');
  const runs = await countingServer(t, scope, 'next');
  await doomed.crash();

  const error = await outcome;
  assert.equal(error?.code, Code.UNAVAILABLE, String(error));
  assert.equal(runs.get('charge c1'), undefined, 'the next server did not run it');
  assert.deepEqual(unpack((await dead.take()).content), ['c1']);
});

test('an idempotent request runs once more after a crash; crashed twice, it is dead-lettered and the caller gets INTERNAL', async (t) => {
  const scope = await jobsScope(t);
  const dead = await deadLetterQueue(t, scope);
  const first = await startServerProcess(t, 'jobs-server.ts', scope.url({ server: 'first', prefetch: 1 }));
  const jobs = jobsClient(t, scope);
  const outcome = jobs.refresh.with({ timeoutMs: 90_000 })('r1').then(() => undefined, (error: unknown) => error as RpcError);
  await first.next('started refresh r1');
  const second = await startServerProcess(t, 'jobs-server.ts', scope.url({ server: 'second', prefetch: 1 }));
  await first.crash();
  await second.next('started refresh r1');
  const runs = await countingServer(t, scope, 'third');
  await second.crash();

  const error = await outcome;
  assert.equal(error?.code, Code.INTERNAL, `answered with INTERNAL, not left to its deadline: ${String(error)}`);
  assert.match(error.message, /interrupted twice.*not run again/);
  assert.equal(runs.get('refresh r1'), undefined, 'the third server did not run it');
  assert.equal(second.printed.filter((line) => line === 'started refresh r1').length, 1, 'the second server ran it once');
  const letter = await dead.take();
  assert.equal(letter.properties.type, 'refresh');
  assert.equal(letter.properties.headers?.[':retried'], 1, 'the dead letter is the counted copy');

  assert.equal(await jobs.refresh.with({ timeoutMs: 10_000 })('r2'), 'r2');
  assert.equal(runs.get('refresh r2'), 1);
});

test('an idempotent request interrupted once is run again and answered', async (t) => {
  const scope = await jobsScope(t);
  const doomed = await startServerProcess(t, 'jobs-server.ts', scope.url({ server: 'doomed', prefetch: 1 }));
  const jobs = jobsClient(t, scope);
  const pending = jobs.refresh.with({ timeoutMs: 60_000 })('r1');
  await doomed.next('started refresh r1');
  const runs = await countingServer(t, scope, 'survivor');
  await doomed.crash();
  assert.equal(await pending, 'r1');
  assert.equal(runs.get('refresh r1'), 1);
});
