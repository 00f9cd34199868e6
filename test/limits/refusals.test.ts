import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Code, LIMIT_NAMES, RpcError, createServer, type Logger } from '../../src/index.js';
import { Refusals } from '../../src/core/refusals.js';

/** The counters behind `server.refusals()`, and how a flood of refusals is logged. */

function recordingLogger(): { logger: Logger; warnings: Array<Record<string, unknown>> } {
  const warnings: Array<Record<string, unknown>> = [];
  const ignore = (): void => undefined;
  return { warnings, logger: { debug: ignore, info: ignore, error: ignore, warn: (fields) => warnings.push(fields as Record<string, unknown>) } };
}

test('every limit is counted under its own name, starting at zero', () => {
  const refusals = new Refusals(recordingLogger().logger);
  assert.deepEqual(Object.keys(refusals.counts()), [...LIMIT_NAMES]);
  assert.ok(Object.values(refusals.counts()).every((count) => count === 0));
  refusals.refuse('maxConnections');
  refusals.refuse('maxConnections');
  refusals.refuse('maxDecodeDepth');
  assert.equal(refusals.counts().maxConnections, 2);
  assert.equal(refusals.counts().maxDecodeDepth, 1);
  const copy = refusals.counts();
  refusals.refuse('maxConnections');
  assert.equal(copy.maxConnections, 2, 'counts() is a copy');
});

test('a flood of refusals logs one warning per limit and interval, with how many there were', async () => {
  const { logger, warnings } = recordingLogger();
  const refusals = new Refusals(logger, 200);
  for (let i = 0; i < 1000; i++) refusals.refuse('maxConnectionsPerAddress', { remote: '203.0.113.7' });
  refusals.refuse('maxMetadataBytes');
  assert.deepEqual(warnings.map((w) => [w.limit, w.refused]), [['maxConnectionsPerAddress', 1], ['maxMetadataBytes', 1]]);
  assert.equal(warnings[0]!.remote, '203.0.113.7');
  await new Promise((resolve) => setTimeout(resolve, 250));
  refusals.refuse('maxConnectionsPerAddress');
  assert.deepEqual(warnings.at(-1), { limit: 'maxConnectionsPerAddress', refused: 1000, total: 1001 });
});

test('a server\'s refusals start at zero for every limit', () => {
  const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: false });
  assert.deepEqual(server.refusals(), Object.fromEntries(LIMIT_NAMES.map((name) => [name, 0])));
});

test('a limit must be a whole number of at least 1, or Infinity', () => {
  for (const bad of [0, -1, 1.5, Number.NaN]) {
    assert.throws(() => createServer({ listen: ['tcp://127.0.0.1:0'], registry: false, maxConnections: bad }), (error: unknown) => {
      assert.ok(error instanceof RpcError);
      assert.equal(error.code, Code.INVALID_ARGUMENT);
      assert.match(error.message, /maxConnections must be a whole number of at least 1, or Infinity/);
      return true;
    });
  }
  createServer({ listen: ['tcp://127.0.0.1:0'], registry: false, maxConnections: Infinity, firstRequestTimeoutMs: Infinity, maxDecodeDepth: 10 });
});
