// The behaviour every Registry implementation must show. A test file calls `registryContract` with a
// factory; every registry the factory makes must share one backing store (like separate processes
// pointed at the same registry). Each test uses service names of its own, so leftovers from other
// tests or runs cannot interfere.
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseProviderUrl, providerUrl, type Provider } from '../../src/registry/provider.js';
import type { Registry } from '../../src/registry/registry.js';

/** Polls `check` until it returns true, failing after `timeoutMs`. */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** Records what a subscriber is told. */
export class Recorder {
  readonly calls: Provider[][] = [];
  readonly onChange = (providers: Provider[]): void => {
    this.calls.push(providers);
  };

  /** Sorted URLs of the latest list, or undefined before the first call. */
  urls(): string[] | undefined {
    return this.calls.at(-1)?.map(providerUrl).sort();
  }

  async waitForUrls(expected: readonly string[], what = 'the expected providers'): Promise<void> {
    const want = [...expected].sort();
    await waitFor(() => JSON.stringify(this.urls()) === JSON.stringify(want), `${what}: ${JSON.stringify(want)}`);
  }
}

let serial = 0;

/** A service name no other test or run uses. */
export function uniqueServiceName(label: string): string {
  serial++;
  return `contract.r${Date.now().toString(36)}${process.pid}n${serial}.${label}`;
}

/** A provider of `name` at 127.0.0.1:`port`, with extra URL parameters. */
export function makeProvider(name: string, port: number, query = ''): Provider {
  return parseProviderUrl(`tcp://127.0.0.1:${port}/${name}?methods=echo&timestamp=1700000000000${query}`);
}

export function registryContract(name: string, makeRegistry: () => Promise<Registry>): void {
  /** A registry closed when the test ends. */
  async function open(t: TestContext): Promise<Registry> {
    const registry = await makeRegistry();
    t.after(() => registry.close());
    return registry;
  }

  function subscribe(t: TestContext, registry: Registry, service: string): Recorder {
    const recorder = new Recorder();
    const unsubscribe = registry.subscribe({ name: service }, recorder.onChange);
    t.after(unsubscribe);
    return recorder;
  }

  describe(`${name} registry contract`, () => {
    test('a subscriber sees a provider registered through the same registry', async (t) => {
      const registry = await open(t);
      const service = uniqueServiceName('Echo');
      const provider = makeProvider(service, 20001);
      const seen = subscribe(t, registry, service);
      await registry.register(provider);
      await seen.waitForUrls([providerUrl(provider)]);
    });

    test('two registries see the providers each other registered', async (t) => {
      const a = await open(t);
      const b = await open(t);
      const service = uniqueServiceName('Echo');
      const fromA = makeProvider(service, 20011);
      const fromB = makeProvider(service, 20012);
      const seenByA = subscribe(t, a, service);
      const seenByB = subscribe(t, b, service);
      await a.register(fromA);
      await seenByB.waitForUrls([providerUrl(fromA)], 'b to see a');
      await b.register(fromB);
      await seenByA.waitForUrls([providerUrl(fromA), providerUrl(fromB)], 'a to see both');
      await seenByB.waitForUrls([providerUrl(fromA), providerUrl(fromB)], 'b to see both');
    });

    test('an unregistered provider disappears from other registries', async (t) => {
      const a = await open(t);
      const b = await open(t);
      const service = uniqueServiceName('Echo');
      const stays = makeProvider(service, 20021);
      const leaves = makeProvider(service, 20022);
      await a.register(stays);
      await a.register(leaves);
      const seen = subscribe(t, b, service);
      await seen.waitForUrls([providerUrl(stays), providerUrl(leaves)]);
      await a.unregister(leaves);
      await seen.waitForUrls([providerUrl(stays)], 'the unregistered provider to disappear');
    });

    test('every version and group of a service name is listed, keeping its version and group', async (t) => {
      const a = await open(t);
      const b = await open(t);
      const service = uniqueServiceName('Echo');
      const providers = [
        makeProvider(service, 20031),
        makeProvider(service, 20032, '&version=1.0.0'),
        makeProvider(service, 20033, '&version=2.0.0'),
        makeProvider(service, 20034, '&version=2.0.0&group=blue'),
        makeProvider(service, 20034, '&group=green'),
      ];
      for (const provider of providers) await a.register(provider);
      const seen = subscribe(t, b, service);
      await seen.waitForUrls(providers.map(providerUrl));
      const keys = seen.calls.at(-1)!.map((p) => `${p.port} ${p.service.version ?? '-'} ${p.service.group ?? '-'}`).sort();
      assert.deepEqual(keys, ['20031 - -', '20032 1.0.0 -', '20033 2.0.0 -', '20034 - green', '20034 2.0.0 blue']);
    });

    test('a subscriber is told the current providers right after subscribing', async (t) => {
      const a = await open(t);
      const b = await open(t);
      const service = uniqueServiceName('Echo');
      const provider = makeProvider(service, 20041);
      await a.register(provider);
      const seen = subscribe(t, b, service);
      await waitFor(() => seen.calls.length > 0, 'the first call');
      // The registration finished before subscribing, so the very first list already holds it.
      assert.deepEqual(seen.calls[0]!.map(providerUrl), [providerUrl(provider)]);
    });

    test('a subscriber to a service nobody provides is told the empty list', async (t) => {
      const registry = await open(t);
      const seen = subscribe(t, registry, uniqueServiceName('Nobody'));
      await waitFor(() => seen.calls.length > 0, 'the first call');
      assert.deepEqual(seen.calls[0], []);
    });

    test('providers of other service names are not listed', async (t) => {
      const registry = await open(t);
      const service = uniqueServiceName('Echo');
      const mine = makeProvider(service, 20051);
      await registry.register(makeProvider(`${service}Longer`, 20052));
      await registry.register(makeProvider(`${service}.Inner`, 20053));
      await registry.register(mine);
      const seen = subscribe(t, registry, service);
      await seen.waitForUrls([providerUrl(mine)]);
    });

    test('registering the same provider twice lists it once', async (t) => {
      const a = await open(t);
      const b = await open(t);
      const service = uniqueServiceName('Echo');
      const provider = makeProvider(service, 20061);
      await a.register(provider);
      await a.register(provider);
      const seen = subscribe(t, b, service);
      await seen.waitForUrls([providerUrl(provider)]);
      await a.unregister(provider);
      await seen.waitForUrls([], 'the provider to disappear after one unregister');
    });

    test('after unsubscribe a subscriber is not called any more', async (t) => {
      const a = await open(t);
      const b = await open(t);
      const service = uniqueServiceName('Echo');
      const gone = new Recorder();
      const unsubscribe = b.subscribe({ name: service }, gone.onChange);
      const witness = subscribe(t, b, service);
      await waitFor(() => gone.calls.length > 0 && witness.calls.length > 0, 'the first calls');
      unsubscribe();
      unsubscribe();
      const callsBefore = gone.calls.length;
      const provider = makeProvider(service, 20071);
      await a.register(provider);
      await witness.waitForUrls([providerUrl(provider)], 'the witness to see the new provider');
      await sleep(300);
      assert.equal(gone.calls.length, callsBefore);
    });

    test('close unregisters everything the registry registered, and may be called twice', async (t) => {
      const a = await makeRegistry();
      t.after(() => a.close());
      const b = await open(t);
      const first = uniqueServiceName('First');
      const second = uniqueServiceName('Second');
      const providers = [makeProvider(first, 20081), makeProvider(first, 20082, '&version=2'), makeProvider(second, 20083)];
      for (const provider of providers) await a.register(provider);
      const seenFirst = subscribe(t, b, first);
      const seenSecond = subscribe(t, b, second);
      await seenFirst.waitForUrls([providerUrl(providers[0]!), providerUrl(providers[1]!)]);
      await seenSecond.waitForUrls([providerUrl(providers[2]!)]);
      await a.close();
      await a.close();
      await seenFirst.waitForUrls([], 'the first service to have no providers');
      await seenSecond.waitForUrls([], 'the second service to have no providers');
    });

    test('every field of the provider URL reaches other registries unchanged', async (t) => {
      const a = await open(t);
      const b = await open(t);
      const service = uniqueServiceName('Echo');
      const provider = parseProviderUrl(
        `tcp://127.0.0.1:20091/${service}?version=1.2.3&group=canary&methods=add,divide,echo&weight=35` +
          '&timestamp=1712345678901&warmup=60000&serialization=json&region=eu-west&tag=a%26b%3Dc',
      );
      await a.register(provider);
      const seen = subscribe(t, b, service);
      await seen.waitForUrls([providerUrl(provider)]);
      const received = seen.calls.at(-1)![0]!;
      assert.deepEqual({ ...received, service: { ...received.service }, params: { ...received.params } }, {
        protocol: 'tcp',
        host: '127.0.0.1',
        port: 20091,
        address: 'tcp://127.0.0.1:20091',
        service: { name: service, version: '1.2.3', group: 'canary' },
        methods: ['add', 'divide', 'echo'],
        weight: 35,
        timestamp: 1712345678901,
        warmupMs: 60000,
        serialization: 'json',
        params: { region: 'eu-west', tag: 'a&b=c' },
      });
    });
  });
}
