import assert from 'node:assert/strict';
import test from 'node:test';
import { Code, RpcError, createClient, defineService, type ServiceProxy } from '../../src/index.js';
import { Inject, Provide, Reference } from '../../src/di/index.js';
import { CalculatorBlueOne, CalculatorOne, CalculatorTwo, CalculatorV1, Totals, diFixture, type Calculator } from './support.js';

test('a consumer class calls a provider class through its injected proxy, over tcp and the embedded registry', async (t) => {
  const fx = await diFixture(t);
  const providers = fx.container({ server: fx.server(), classes: [CalculatorOne] });
  const addresses = await providers.start();
  assert.match(addresses[0] ?? '', /^tcp:\/\/127\.0\.0\.1:\d+$/);

  const consumers = fx.container({ classes: [Totals] });
  assert.equal(await consumers.get(Totals).total([1, 2, 3, 4]), 10);
  // The server called the container's singleton, the one get() hands out.
  assert.equal(providers.get(CalculatorOne).calls, 4);
  assert.equal(consumers.get(Totals), consumers.get(Totals));

  // Registered after start(), a @Provide class is provided at once.
  providers.register(CalculatorTwo);
  class Upgraded {
    @Reference(CalculatorV1, { version: '2.0.0' }) readonly calculator!: Calculator;
  }
  assert.equal(await consumers.register(Upgraded).get(Upgraded).calculator.whoAmI(), 'v2');
});

test('each reference reaches the provider of its version and group', async (t) => {
  const fx = await diFixture(t);
  await fx.container({ server: fx.server(), classes: [CalculatorOne] }).start();
  // Both subclasses of CalculatorOne, in one server: each provides only its own service, or this start would refuse CalculatorV1 twice.
  await fx.container({ server: fx.server(), classes: [CalculatorTwo, CalculatorBlueOne] }).start();

  class Quotes {
    @Reference(CalculatorV1) readonly v1!: ServiceProxy<Calculator>;
    @Reference(CalculatorV1, { version: '2.0.0' }) readonly v2!: ServiceProxy<Calculator>;
    @Reference(CalculatorV1, { version: '^2.0.0', loadBalance: 'roundrobin', cluster: 'failfast' }) readonly latest!: ServiceProxy<Calculator>;
    @Reference(CalculatorV1, { group: 'blue' }) readonly blue!: Calculator; // the interface type fits too
  }
  const quotes = fx.container({ classes: [Quotes] }).get(Quotes);
  assert.deepEqual(await Promise.all([quotes.v1.whoAmI(), quotes.v2.whoAmI(), quotes.latest.whoAmI(), quotes.blue.whoAmI()]), ['v1', 'v2', 'v2', 'blue']);
  assert.equal(new Set([quotes.v1, quotes.v2, quotes.latest, quotes.blue]).size, 4, 'one proxy per declaration');
});

test('a subclass gets the references of its base class, and classes referencing one service with different options get different proxies', async (t) => {
  const fx = await diFixture(t);
  await fx.container({ server: fx.server(), classes: [CalculatorOne, CalculatorTwo] }).start();

  class Reports {
    @Reference(CalculatorV1) readonly calculator!: ServiceProxy<Calculator>;
  }
  class DetailedReports extends Reports {
    @Reference(CalculatorV1, { version: '2.0.0' }) readonly newer!: ServiceProxy<Calculator>;
  }
  class Audits {
    @Reference(CalculatorV1, { version: '2.0.0' }) readonly calculator!: ServiceProxy<Calculator>;
  }
  const consumers = fx.container()
    .register(Reports)
    .register(DetailedReports, { lifetime: 'transient' })
    .register(Audits);
  const reports = consumers.get(Reports);
  const detailed = consumers.get(DetailedReports);
  const audits = consumers.get(Audits);

  assert.equal(Object.hasOwn(reports, 'newer'), false, "the subclass's field stays in the subclass");
  assert.equal(await detailed.calculator.whoAmI(), 'v1');
  assert.equal(await detailed.newer.whoAmI(), 'v2');
  assert.equal(await audits.calculator.whoAmI(), 'v2');
  assert.equal(await reports.calculator.whoAmI(), 'v1');
  assert.notEqual(audits.calculator, reports.calculator);
  // One declaration, one proxy per container: the base class's field, in a base and a subclass instance, and in two transient instances.
  assert.equal(detailed.calculator, reports.calculator);
  const another = consumers.get(DetailedReports);
  assert.notEqual(another, detailed);
  assert.equal(another.newer, detailed.newer);
});

test('@Inject fills a field with the container instance of another class before the constructor body runs', async (t) => {
  const fx = await diFixture(t);
  await fx.container({ server: fx.server(), classes: [CalculatorOne] }).start();

  class Ledger {
    readonly entries: number[] = [];
  }
  class Checkout {
    @Inject(Ledger) readonly ledger!: Ledger;
    @Inject(() => Receipts) readonly receipts!: Receipts;
    readonly ledgerInConstructor: Ledger;

    constructor() {
      this.ledgerInConstructor = this.ledger;
    }

    async pay(values: number[]): Promise<string> {
      const total = await this.receipts.totals.total(values);
      this.ledger.entries.push(total);
      return this.receipts.print(total);
    }
  }
  // Declared after Checkout, which names it through an arrow function.
  class Receipts {
    @Inject(Totals) readonly totals!: Totals;

    print(total: number): string {
      return `total ${total}`;
    }
  }
  const container = fx.container({ classes: [Ledger, Checkout, Receipts, Totals] });
  const checkout = container.get(Checkout);
  assert.equal(checkout.ledgerInConstructor, container.get(Ledger));
  assert.equal(checkout.receipts.totals, container.get(Totals));
  assert.equal(await checkout.pay([5, 6]), 'total 11');
  assert.deepEqual(container.get(Ledger).entries, [11]);
});

test('a reference to a service nobody provides fails with the RpcError the client gives', async (t) => {
  const fx = await diFixture(t);
  const consumers = fx.container({ client: { waitForProvidersMs: 100 }, classes: [Totals] });
  await assert.rejects(consumers.get(Totals).total([1]), (error: unknown) => {
    assert.ok(error instanceof RpcError);
    assert.equal(error.code, Code.UNAVAILABLE);
    assert.equal(error.unprocessed, true);
    assert.match(error.message, /di\.Calculator:1\.0\.0/);
    return true;
  });
});

interface Relay {
  relay(a: number, b: number): Promise<number>;
}
const RelayService = defineService<Relay>('di.Relay', { methods: { relay: {} } });

test('close loses no call in flight: the server drains while providers still call through the client, then the client closes', async (t) => {
  const fx = await diFixture(t);
  const backend = fx.container({ server: fx.server(), classes: [CalculatorOne] });
  await backend.start();

  const inFlight = 5;
  let arrived = 0;
  let allArrived!: () => void;
  const arrivedAll = new Promise<void>((resolve) => (allArrived = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  @Provide(RelayService)
  class RelayImpl implements Relay {
    @Reference(CalculatorV1) readonly calculator!: ServiceProxy<Calculator>;

    async relay(a: number, b: number): Promise<number> {
      if (++arrived === inFlight) allArrived();
      // Calls on only once close() has begun: a client closed before the drain ends would refuse this call.
      await released;
      return this.calculator.add(a, b);
    }
  }
  const gateway = fx.container({ server: fx.server(), classes: [RelayImpl] });
  await gateway.start();
  const relayInstance = gateway.get(RelayImpl);

  const caller = createClient({ registry: fx.registry });
  fx.onClose(() => caller.close());
  const relay = caller.proxy(RelayService);
  const calls = Array.from({ length: inFlight }, (_, i) => relay.relay(i, 10));
  await arrivedAll;

  const closing = gateway.close();
  release();
  assert.deepEqual(await Promise.all(calls), [10, 11, 12, 13, 14]);
  await closing;
  assert.equal(backend.get(CalculatorOne).calls, inFlight);
  // Closed last, the client the container made now refuses calls.
  await assert.rejects(relayInstance.calculator.add(1, 1), { code: Code.UNAVAILABLE, message: /client is closed/ });
  assert.throws(() => gateway.get(RelayImpl), { code: Code.FAILED_PRECONDITION, message: /container is closed/ });
});

test('a container closes the client it made but not one it was given, and disposes of its singletons newest first', async (t) => {
  const fx = await diFixture(t);
  const disposed: string[] = [];
  @Provide(CalculatorV1)
  class DisposableCalculator extends CalculatorOne {
    async [Symbol.asyncDispose](): Promise<void> {
      disposed.push('provider');
    }
  }
  const backend = fx.container({ server: fx.server(), classes: [DisposableCalculator] });
  await backend.start();

  class Cache {
    [Symbol.dispose](): void {
      disposed.push('cache');
    }
  }
  class Reader {
    @Inject(Cache) readonly cache!: Cache;
    @Reference(CalculatorV1) readonly calculator!: ServiceProxy<Calculator>;
    async [Symbol.asyncDispose](): Promise<void> {
      // Disposed of before the client closes, so it may still call out.
      disposed.push(`reader ${await this.calculator.add(1, 1)}`);
    }
  }
  const shared = createClient({ registry: fx.registry });
  fx.onClose(() => shared.close());
  const consumers = fx.container({ client: shared, classes: [Cache, Reader] });
  const reader = consumers.get(Reader);
  assert.equal(await reader.calculator.whoAmI(), 'v1');
  await consumers.close();
  assert.deepEqual(disposed, ['reader 2', 'cache']);
  assert.equal(await shared.proxy(CalculatorV1).add(2, 3), 5, 'the given client is still open');

  await backend.close();
  assert.deepEqual(disposed, ['reader 2', 'cache', 'provider'], 'the server disposed of its provider, once');
});
