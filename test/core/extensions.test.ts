import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import {
  Code,
  RpcError,
  createClient,
  registerBalancer,
  registerClusterStrategy,
  registerRegistry,
  registerSerializer,
  registerTransport,
  type BalancerOptions,
  type Candidate,
  type ClientOptions,
  type ClusterStrategy,
  type Invocation,
  type Invoker,
  type LoadBalancer,
  type Serializer,
} from '../../src/index.js';
import { hasCode } from '../support/assertions.js';
import { CalculatorService, onCleanup, startServer } from '../support/calculator.js';
import { ProbeService, startProvider, type ProbeProvider } from '../support/cluster.js';
import { openRegistry } from '../../src/registry/index.js';
import { MemoryRegistry } from '../support/memory-registry.js';

/** Picks the provider listening on the highest port: easy to predict, unlike any built-in policy. */
function highestPort(): LoadBalancer {
  return { select: (candidates) => candidates.reduce((best, next) => (next.provider.port > best.provider.port ? next : best)) };
}

function lowestPort(): LoadBalancer {
  return { select: (candidates) => candidates.reduce((best, next) => (next.provider.port < best.provider.port ? next : best)) };
}

/** Every balancer the `highest-port` factory made, with the options it was given and what it was asked. */
const madeBalancers: Array<{ options: BalancerOptions; seen: number[] }> = [];
registerBalancer('highest-port', (options) => {
  const made = { options, seen: [] as number[] };
  madeBalancers.push(made);
  const inner = highestPort();
  return {
    select<C extends Candidate>(candidates: readonly C[], call: Invocation): C {
      made.seen.push(candidates.length);
      return inner.select(candidates, call);
    },
  };
});

/**
 * Tries the providers from the lowest port up until one answers, whatever the error and whether or
 * not the method is idempotent: a policy no built-in strategy has.
 */
const tryEveryProvider: ClusterStrategy = async (context, call) => {
  const invokers = [...context.invokers()].sort((a: Invoker, b: Invoker) => a.provider.port - b.provider.port);
  let last: unknown = new RpcError(Code.UNAVAILABLE, 'no provider');
  for (const invoker of invokers) {
    try {
      return await context.send(invoker, call);
    } catch (error) {
      last = error;
    }
  }
  throw last;
};
registerClusterStrategy('try-every-provider', tryEveryProvider);

/** Addresses opened through the `memory:` scheme, in order. */
const openedAddresses: string[] = [];
registerRegistry('memory', (address) => {
  openedAddresses.push(address);
  return new MemoryRegistry(new URL(address).host);
});

/** `count` probe providers on tcp with no registry, sorted by port. */
async function providers(t: TestContext, count: number): Promise<ProbeProvider[]> {
  const started: ProbeProvider[] = [];
  for (let i = 0; i < count; i++) started.push(await startProvider(t, `p${i}`, { registry: false }));
  return started.sort((a, b) => port(a.address) - port(b.address));
}

const port = (address: string) => Number(new URL(address).port);

function client(t: TestContext, options: ClientOptions) {
  const made = createClient(options);
  onCleanup(t, () => made.close({ timeoutMs: 1000 }));
  return made;
}

describe('a registered load balancer', () => {
  test('chooses the provider of every real call, by its name', async (t) => {
    const [low, middle, high] = await providers(t, 3) as [ProbeProvider, ProbeProvider, ProbeProvider];
    const before = madeBalancers.length;
    const probe = client(t, { url: [middle.address, high.address, low.address], loadBalance: 'highest-port' }).proxy(ProbeService);
    for (let i = 0; i < 10; i++) assert.equal(await probe.whoami(), high.label);
    assert.equal(high.count(), 10);
    assert.equal(low.count() + middle.count(), 0);
    const made = madeBalancers.slice(before);
    assert.equal(made.length, 1, 'one balancer for the one method called');
    assert.deepEqual(made[0]!.seen, Array(10).fill(3), 'it chose among all three providers each time');
  });

  test('gets each method a balancer of its own, made with the routing options', async (t) => {
    const [only] = await providers(t, 1) as [ProbeProvider];
    const before = madeBalancers.length;
    const probe = client(t, { url: only.address }).proxy(ProbeService, { loadBalance: 'highest-port', hashArguments: [1], virtualNodes: 7 });
    await probe.read('k');
    await probe.write('v');
    const made = madeBalancers.slice(before);
    assert.equal(made.length, 2);
    assert.deepEqual(made.map((m) => [m.options.hashArguments, m.options.virtualNodes]), [[[1], 7], [[1], 7]]);
  });

  test('is refused under a taken or invalid name, or when it is no function', () => {
    for (const name of ['random', 'highest-port']) {
      assert.throws(() => registerBalancer(name, highestPort), hasCode(Code.INVALID_ARGUMENT, /already registered/));
    }
    for (const name of ['', 'has space', '1st', 'a/b', '__proto__', 'x'.repeat(65)]) {
      assert.throws(() => registerBalancer(name, highestPort), hasCode(Code.INVALID_ARGUMENT, /invalid load balancer name/));
    }
    assert.throws(() => registerBalancer('not-a-factory', {} as never), hasCode(Code.INVALID_ARGUMENT, /expected shape/));
  });

  test('an unknown name fails the call with INVALID_ARGUMENT naming the registered ones', async (t) => {
    const [only] = await providers(t, 1) as [ProbeProvider];
    const probe = client(t, { url: only.address }).proxy(ProbeService, { loadBalance: 'no-such-balancer' });
    await assert.rejects(probe.whoami(), hasCode(Code.INVALID_ARGUMENT, /"no-such-balancer".*random, .*highest-port/));
    assert.equal(only.count(), 0);
  });
});

describe('a balancer object', () => {
  test('is used as given, and proxies with different objects keep their own', async (t) => {
    const [low, , high] = await providers(t, 3) as [ProbeProvider, ProbeProvider, ProbeProvider];
    const shared = client(t, { url: [low.address, high.address] });
    const toLow = shared.proxy(ProbeService, { loadBalance: lowestPort() });
    const toHigh = shared.proxy(ProbeService, { loadBalance: highestPort() });
    for (let i = 0; i < 5; i++) {
      assert.equal(await toLow.whoami(), low.label);
      assert.equal(await toHigh.whoami(), high.label);
    }
    assert.deepEqual([low.count(), high.count()], [5, 5]);
  });

  test('without a select method is refused with INVALID_ARGUMENT', async (t) => {
    const [only] = await providers(t, 1) as [ProbeProvider];
    const probe = client(t, { url: only.address }).proxy(ProbeService, { loadBalance: {} as LoadBalancer });
    await assert.rejects(probe.whoami(), hasCode(Code.INVALID_ARGUMENT, /loadBalance/));
  });
});

describe('a cluster strategy', () => {
  test('registered by name carries real calls: a non-idempotent call goes on past failing providers', async (t) => {
    const [first, second, healthy] = await providers(t, 3) as [ProbeProvider, ProbeProvider, ProbeProvider];
    first.behaviour.failing = true;
    second.behaviour.failing = true;
    const probe = client(t, { url: [healthy.address, second.address, first.address], cluster: 'try-every-provider' }).proxy(ProbeService);
    for (let i = 0; i < 4; i++) assert.equal(await probe.write(i), healthy.label);
    // The built-in failover never runs a non-idempotent call twice; this strategy ran it on each provider in turn.
    assert.deepEqual([first.count('write'), second.count('write'), healthy.count('write')], [4, 4, 4]);
  });

  test('given as a function is used as it is, per method', async (t) => {
    const [low, high] = await providers(t, 2) as [ProbeProvider, ProbeProvider];
    let runs = 0;
    const lastProvider: ClusterStrategy = (context, call) => {
      runs++;
      const invokers = [...context.invokers()].sort((a, b) => b.provider.port - a.provider.port);
      return context.send(invokers[0]!, call);
    };
    const probe = client(t, { url: [low.address, high.address] }).proxy(ProbeService, { methods: { read: { cluster: lastProvider } } });
    assert.equal(await probe.read('k'), high.label);
    assert.equal(runs, 1);
    await probe.whoami(); // the default strategy: not counted
    assert.equal(runs, 1);
  });

  test('is refused under a taken or invalid name', () => {
    assert.throws(() => registerClusterStrategy('failover', tryEveryProvider), hasCode(Code.INVALID_ARGUMENT, /already registered/));
    assert.throws(() => registerClusterStrategy('no spaces', tryEveryProvider), hasCode(Code.INVALID_ARGUMENT, /invalid cluster strategy name/));
  });
});

describe('a registered registry', () => {
  test('is opened by the scheme of the address, by server and client alike, and carries real calls', async (t) => {
    const before = openedAddresses.length;
    const { log } = await startServer(t, { registry: 'memory://team-a' });
    const calc = client(t, { registry: 'memory://team-a' }).proxy(CalculatorService);
    assert.equal(await calc.add(20, 22), 42);
    assert.deepEqual(log.calls.map((c) => c.method), ['add']);
    assert.deepEqual(openedAddresses.slice(before), ['memory://team-a', 'memory://team-a']);
  });

  test('keeps spaces apart, and is closed with the server that opened it', async (t) => {
    const { server } = await startServer(t, { registry: 'memory://team-b' });
    const observer = new MemoryRegistry('team-b');
    assert.equal(observer.listed(CalculatorService.key.name).length, 1);
    const elsewhere = client(t, { registry: 'memory://team-c', waitForProvidersMs: 100 }).proxy(CalculatorService);
    await assert.rejects(elsewhere.add(1, 1), hasCode(Code.UNAVAILABLE));
    await server.close();
    assert.equal(observer.listed(CalculatorService.key.name).length, 0, 'the server unregistered on close');
  });

  test('is refused under a taken or invalid scheme, and an unknown scheme names the known ones', async () => {
    assert.throws(() => registerRegistry('embedded', () => new MemoryRegistry('x')), hasCode(Code.INVALID_ARGUMENT, /already registered/));
    assert.throws(() => registerRegistry('Memory2', () => new MemoryRegistry('x')), hasCode(Code.INVALID_ARGUMENT, /invalid registry scheme/));
    assert.throws(() => registerRegistry('mem://', () => new MemoryRegistry('x')), hasCode(Code.INVALID_ARGUMENT, /invalid registry scheme/));
    await assert.rejects(openRegistry('consul://127.0.0.1:8500'), hasCode(Code.INVALID_ARGUMENT, /"consul" in "consul:\/\/127.0.0.1:8500"; known: embedded, zookeeper, etcd, memory/));
  });
});

describe('a registry object', () => {
  test('is used by server and client as given, and left open for its owner', async (t) => {
    const registry = new MemoryRegistry('shared-object');
    const { server } = await startServer(t, { registry });
    const made = createClient({ registry });
    assert.equal(await made.proxy(CalculatorService).add(2, 3), 5);
    await made.close();
    await server.close();
    assert.equal(registry.closed, false);
    assert.equal(registry.listed(CalculatorService.key.name).length, 0, 'the server still unregistered what it registered');
  });
});

describe('a registered serializer', () => {
  test('carries real calls when server and client enable it by name', async (t) => {
    let encoded = 0;
    const tagged: Serializer = {
      id: 42,
      name: 'tagged-json',
      encode: (value) => {
        encoded++;
        return new TextEncoder().encode(JSON.stringify({ tagged: value }));
      },
      decode: (bytes) => (JSON.parse(new TextDecoder().decode(bytes)) as { tagged: unknown }).tagged,
    };
    registerSerializer('tagged-json', () => tagged);
    const { address } = await startServer(t, { registry: false, serializers: ['msgpack', 'tagged-json'] });
    const calc = client(t, { url: address, serializer: 'tagged-json' }).proxy(CalculatorService);
    assert.equal(await calc.add(1, 2), 3);
    assert.ok(encoded >= 2, 'the request and the response were encoded with it');
    assert.throws(() => registerSerializer('json', () => tagged), hasCode(Code.INVALID_ARGUMENT, /already registered/));
  });
});

describe('registerTransport', () => {
  test('refuses a taken or invalid scheme, and a factory without server and channel', () => {
    const factory = { server: () => { throw new Error('unused'); }, channel: () => { throw new Error('unused'); } };
    assert.throws(() => registerTransport('tcp', factory), hasCode(Code.INVALID_ARGUMENT, /already registered/));
    assert.throws(() => registerTransport('TCP2', factory), hasCode(Code.INVALID_ARGUMENT, /invalid transport scheme/));
    assert.throws(() => registerTransport('half', { server: factory.server } as never), hasCode(Code.INVALID_ARGUMENT, /expected shape/));
  });
});
