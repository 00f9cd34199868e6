import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { Code, RpcError } from '../../src/index.js';
import { callMany, freshRegistry, probeService, startClient, startProvider, tally, waitForLabels } from '../support/cluster.js';

const V1 = probeService('1.0.0');
const V2 = probeService('2.0.0');
const V1Blue = probeService('1.0.0', 'blue');

/** Three providers of one service name in one registry: v1, v2, and v1 in group blue. */
async function sideBySide(t: TestContext) {
  const { registry } = freshRegistry();
  await startProvider(t, 'v1', { registry, definition: V1 });
  await startProvider(t, 'v2', { registry, definition: V2 });
  await startProvider(t, 'v1-blue', { registry, definition: V1Blue });
  const client = startClient(t, { registry });
  // Everything is registered before the client subscribes, so its first view has all three.
  const all = client.proxy(V1, { version: '*', group: '*', loadBalance: 'roundrobin' });
  await waitForLabels(() => all.whoami(), ['v1', 'v2', 'v1-blue']);
  return { registry, client };
}

/** The labels that answer 60 calls made with `call`. */
async function labelsReached(call: () => Promise<string>): Promise<Record<string, number>> {
  const results = await callMany(60, 6, call);
  const failed = results.filter((r) => r.status === 'rejected');
  assert.deepEqual(failed, [], 'no call should fail');
  return tally(results.map((r) => (r as PromiseFulfilledResult<string>).value));
}

describe('versions and groups over a registry', () => {
  test('a consumer asking for 1.0.0 (its definition, no group) reaches only v1', async (t) => {
    const { client } = await sideBySide(t);
    const calc = client.proxy(V1);
    assert.deepEqual(Object.keys(await labelsReached(() => calc.whoami())), ['v1']);
    const explicit = client.proxy(V2, { version: '1.0.0' });
    assert.deepEqual(Object.keys(await labelsReached(() => explicit.whoami())), ['v1']);
  });

  test("a consumer asking for version '*' reaches v1 and v2, but not the blue group", async (t) => {
    const { client } = await sideBySide(t);
    const any = client.proxy(V1, { version: '*', loadBalance: 'roundrobin' });
    assert.deepEqual(await labelsReached(() => any.whoami()), { v1: 30, v2: 30 });
  });

  test("a consumer asking for '^2.0.0' reaches only v2, though its own definition says 1.0.0", async (t) => {
    const { client } = await sideBySide(t);
    const caret = client.proxy(V1, { version: '^2.0.0' });
    assert.deepEqual(Object.keys(await labelsReached(() => caret.whoami())), ['v2']);
    const range = client.proxy(V1, { version: '>=1.0.0 <2.0.0' });
    assert.deepEqual(Object.keys(await labelsReached(() => range.whoami())), ['v1']);
  });

  test("a consumer of group 'blue' reaches only the blue provider; group '*' reaches both v1s", async (t) => {
    const { client } = await sideBySide(t);
    const blue = client.proxy(V1, { group: 'blue' });
    assert.deepEqual(Object.keys(await labelsReached(() => blue.whoami())), ['v1-blue']);
    const blueByDefinition = client.proxy(V1Blue);
    assert.deepEqual(Object.keys(await labelsReached(() => blueByDefinition.whoami())), ['v1-blue']);
    const anyGroup = client.proxy(V1, { group: '*', loadBalance: 'roundrobin' });
    assert.deepEqual(await labelsReached(() => anyGroup.whoami()), { v1: 30, 'v1-blue': 30 });
  });

  test("the server id on the wire is the provider's: a '*' consumer defined as v1 calls v2 successfully", async (t) => {
    const { registry } = freshRegistry();
    const v2 = await startProvider(t, 'v2', { registry, definition: V2 });
    const client = startClient(t, { registry });
    const any = client.proxy(V1, { version: '*' });
    assert.equal(await any.read('k'), 'v2');
    assert.equal(await any.write('w'), 'v2');
    assert.deepEqual(v2.received.map((r) => r.method), ['read', 'write']);
  });

  test('no matching provider: the call fails UNAVAILABLE once waitForProvidersMs has passed', async (t) => {
    const { registry } = freshRegistry();
    const v1 = await startProvider(t, 'v1', { registry, definition: V1 });
    const client = startClient(t, { registry, waitForProvidersMs: 300 });
    assert.equal(await client.proxy(V1).whoami(), 'v1');
    for (const options of [{ version: '3.0.0' }, { version: '^2.0.0' }, { group: 'blue' }]) {
      const started = Date.now();
      const error = await client.proxy(V1, options).whoami().then(
        () => assert.fail(`a call with ${JSON.stringify(options)} should fail`),
        (e: unknown) => e,
      );
      const took = Date.now() - started;
      assert.ok(error instanceof RpcError, String(error));
      assert.equal(error.code, Code.UNAVAILABLE, error.message);
      assert.equal(error.unprocessed, true);
      assert.ok(took >= 250, `${JSON.stringify(options)}: failed after ${took} ms, before waitForProvidersMs`);
      assert.ok(took < 2500, `${JSON.stringify(options)}: failed only after ${took} ms`);
    }
    assert.equal(v1.count(), 1, 'the v1 provider never received the unmatched calls');
  });

  test('a provider that appears while a call waits for discovery serves it', async (t) => {
    const { registry } = freshRegistry();
    const client = startClient(t, { registry, waitForProvidersMs: 5000 });
    const pending = client.proxy(V2, { version: '^2.0.0' }).whoami();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await startProvider(t, 'late-v2', { registry, definition: V2 });
    assert.equal(await pending, 'late-v2');
  });
});
