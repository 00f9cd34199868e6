// Providers' own tags (Dubbo's static tags: `createServer({ tag })`, `dubbo.tag` in a provider's entry) route a running
// client's calls with no tag rule, through real servers on the embedded registry (a temp folder).
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { Code, RpcError } from '../../src/index.js';
import { startProvider, type ProbeProvider } from '../support/cluster.js';
import { CallLoop, embeddedBackend, startFleet, within, type Fleet } from './wiring-kit.js';

/** A provider of the fleet's service started with `tag` as its own (`createServer({ tag })`), as a Dubbo provider with `tag="gray"`. */
function startTagged(t: TestContext, fleet: Fleet, label: string, tag: string): Promise<ProbeProvider> {
  return startProvider(t, label, { definition: fleet.definition, registry: fleet.registry, application: fleet.app, tag });
}

const labelsOf = (answers: ReadonlyArray<string | RpcError>) => new Set(answers.map((answer) => (answer instanceof RpcError ? answer.code : answer)));

describe('static provider tags, with no tag rule (embedded)', () => {
  test('a tagged provider takes the calls carrying its tag and no untagged call; an unknown tag falls back to untagged providers unless forced', async (t) => {
    const fleet = await startFleet(t, embeddedBackend, ['plain']);
    const [plain] = fleet.providers;
    const gray = await startTagged(t, fleet, 'gray', 'gray');
    await within(5000, async () => (await tagged(fleet, 'gray')().catch(() => '')) === 'gray', 'a call tagged gray reaching the gray provider');
    const [grayBefore, plainBefore] = [gray.count('whoami'), plain!.count('whoami')];
    const grayCalls = new CallLoop(t, () => tagged(fleet, 'gray')(), 2);
    const plainCalls = new CallLoop(t, () => fleet.proxy.whoami(), 2);
    await Promise.all([grayCalls.next(200), plainCalls.next(200)]);
    await Promise.all([grayCalls.stop(), plainCalls.stop()]);
    assert.deepEqual(labelsOf(grayCalls.answers), new Set(['gray']));
    assert.deepEqual(labelsOf(plainCalls.answers), new Set(['plain']));
    // Counted where they ran: each server ran exactly the calls it answered.
    assert.equal(gray.count('whoami') - grayBefore, grayCalls.answers.length);
    assert.equal(plain!.count('whoami') - plainBefore, plainCalls.answers.length);
    // A tag no provider has falls back to the untagged provider...
    assert.equal(await tagged(fleet, 'blue')(), 'plain');
    // ...unless the call forces it: it fails at once, saying why; a forced tag that exists is served.
    await assert.rejects(tagged(fleet, 'blue', true)(), (error: RpcError) => {
      assert.equal(error.code, Code.UNAVAILABLE);
      assert.equal(error.unprocessed, true);
      assert.match(error.message, /no provider has the tag "blue", and the call asks for it alone \(dubbo\.force\.tag: true\)/);
      return true;
    });
    assert.equal(await tagged(fleet, 'gray', true)(), 'gray');
  });

  test('when every provider has a tag, an untagged call and a call with an unknown tag fail saying why', async (t) => {
    const fleet = await startFleet(t, embeddedBackend, []);
    await startTagged(t, fleet, 'gray', 'gray');
    await startTagged(t, fleet, 'blue', 'blue');
    await within(5000, async () => new Set(await Promise.all(['gray', 'blue'].map((tag) => tagged(fleet, tag)().catch(() => '')))).size === 2, 'both tagged providers answering their tags');
    await assert.rejects(fleet.proxy.whoami(), (error: RpcError) => {
      assert.equal(error.code, Code.UNAVAILABLE);
      assert.match(error.message, /the call has no tag, and every provider is tagged/);
      return true;
    });
    await assert.rejects(tagged(fleet, 'red')(), /no provider has the tag "red", and every provider is tagged, so there is none to fall back to/);
    assert.equal(await tagged(fleet, 'blue')(), 'blue');
  });

  test('tag routing starts when a tagged provider joins and stops when it leaves; a tag rule, then its deletion, leave the static tag in force', async (t) => {
    const fleet = await startFleet(t, embeddedBackend, ['a', 'b']);
    const plainCalls = new CallLoop(t, () => fleet.proxy.whoami(), 2);
    const grayCalls = new CallLoop(t, () => tagged(fleet, 'gray')(), 2);
    assert.deepEqual(labelsOf(await grayCalls.next(100)), new Set(['a', 'b']), 'with no tagged provider a tagged call goes anywhere');
    const gray = await startTagged(t, fleet, 'gray', 'gray');
    await within(5000, async () => (await grayCalls.next(20)).every((answer) => answer === 'gray'), 'calls tagged gray going to the new gray provider only');
    const joined = plainCalls.answers.length;
    await plainCalls.next(200);
    assert.equal(plainCalls.countSince(joined, 'gray'), 0, 'no untagged call reaches the gray provider');
    // A tag rule that groups b as "blue" is in force on top of the static tag, then deleted.
    await embeddedBackend.put(t, fleet.registry, fleet.app, 'tag-router', `key: ${fleet.app}\ntags:\n  - name: blue\n    addresses: ["${fleet.address(fleet.providers[1]!)}"]\n`);
    await within(2000, async () => (await plainCalls.next(20)).every((answer) => answer === 'a'), 'untagged calls kept off the blue group and the gray provider');
    assert.deepEqual(labelsOf(await grayCalls.next(100)), new Set(['gray']), 'the static tag still routes under a tag rule');
    await embeddedBackend.remove(t, fleet.registry, fleet.app, 'tag-router');
    await within(2000, async () => labelsOf(await plainCalls.next(40)).size === 2, 'untagged calls reaching a and b once the rule was deleted');
    const removed = plainCalls.answers.length;
    await plainCalls.next(200);
    assert.equal(plainCalls.countSince(removed, 'gray'), 0, 'the static tag keeps the gray provider off untagged calls');
    assert.deepEqual(labelsOf(await grayCalls.next(100)), new Set(['gray']));
    // The gray provider leaves: calls tagged gray fall back to the untagged providers.
    await gray.server.close({ timeoutMs: 1000 });
    await within(5000, async () => (await grayCalls.next(20)).every((answer) => answer === 'a' || answer === 'b'), 'calls tagged gray falling back once the gray provider left');
    await Promise.all([plainCalls.stop(), grayCalls.stop()]);
    assert.deepEqual(plainCalls.answers.filter((answer) => answer instanceof RpcError), [], 'no untagged call failed');
  });
});

function tagged(fleet: Fleet, tag: string, force = false) {
  return fleet.proxy.whoami.with({ metadata: { 'dubbo.tag': tag, ...(force ? { 'dubbo.force.tag': 'true' } : {}) } });
}
