import assert from 'node:assert/strict';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { asClass, asValue, createContainer as createAwilixContainer, type AwilixContainer } from 'awilix';
import { build } from 'esbuild';
import { Code, createClient, defineService, type ServiceProxy } from '../../src/index.js';
import { registerSwitchyard, type AwilixSwitchyard, type ReferenceProxies } from '../../src/di/awilix.js';
import { CalculatorOne, CalculatorTwo, CalculatorV1, diFixture, type Calculator } from './support.js';

interface Invoices {
  total(values: number[]): Promise<number>;
}
const InvoicesService = defineService<Invoices>('di.Invoices', { methods: { total: {} } });

const references = { calculator: [CalculatorV1, { version: '2.0.0', timeoutMs: 5000 }] } as const;
type Cradle = ReferenceProxies<typeof references> & { invoices: InvoicesImpl; gate: Gate; switchyard: AwilixSwitchyard };

/** Holds `total` calls until released, once `expected` of them have arrived. */
class Gate {
  private arrived = 0;
  private onArrived!: () => void;
  private onRelease!: () => void;
  readonly allArrived = new Promise<void>((resolve) => (this.onArrived = resolve));
  readonly released = new Promise<void>((resolve) => (this.onRelease = resolve));

  constructor(private readonly expected: number) {}

  arrive(): Promise<void> {
    if (++this.arrived === this.expected) this.onArrived();
    return this.released;
  }

  release(): void {
    this.onRelease();
  }
}

/** Resolved by awilix, which hands it the proxy and the gate from its cradle. */
class InvoicesImpl implements Invoices {
  served = 0;
  private readonly calculator: ServiceProxy<Calculator>;
  private readonly gate: Gate;

  constructor({ calculator, gate }: Cradle) {
    this.calculator = calculator;
    this.gate = gate;
  }

  async total(values: number[]): Promise<number> {
    this.served++;
    await this.gate.arrive();
    let sum = 0;
    for (const value of values) sum = await this.calculator.add(sum, value);
    return sum;
  }
}

function awilixWithInvoices(gate: Gate): AwilixContainer<Cradle> {
  const container = createAwilixContainer<Cradle>({ strict: true });
  container.register({ invoices: asClass(InvoicesImpl).singleton(), gate: asValue(gate) });
  return container;
}

test('awilix resolves Switchyard proxies by name and the server provides registrations resolved from awilix', async (t) => {
  const fx = await diFixture(t);
  await fx.container({ server: fx.server(), classes: [CalculatorOne, CalculatorTwo] }).start();
  const gate = new Gate(1);
  gate.release();
  const awilix = awilixWithInvoices(gate);
  const switchyard = registerSwitchyard(awilix, { server: fx.server(), registry: fx.registry, references, providers: { invoices: InvoicesService } });
  fx.onClose(() => awilix.dispose());
  assert.equal(awilix.resolve('switchyard'), switchyard);
  await switchyard.start();

  // The reference options given with the name pick version 2.
  assert.equal(await awilix.resolve('calculator').whoAmI(), 'v2');
  assert.equal(awilix.resolve('calculator'), awilix.resolve('calculator'), 'a singleton');
  const caller = createClient({ registry: fx.registry });
  fx.onClose(() => caller.close());
  assert.equal(await caller.proxy(InvoicesService).total([1, 2, 3]), 6);
  assert.equal(awilix.resolve('invoices').served, 1, "the server called awilix's singleton");
});

test('awilix dispose() lets calls in flight finish through the proxies, then closes the client', async (t) => {
  const fx = await diFixture(t);
  await fx.container({ server: fx.server(), classes: [CalculatorTwo] }).start();
  const inFlight = 4;
  const gate = new Gate(inFlight);
  const awilix = awilixWithInvoices(gate);
  const switchyard = registerSwitchyard(awilix, { server: fx.server(), client: { registry: fx.registry }, references, providers: { invoices: InvoicesService } });
  fx.onClose(() => awilix.dispose());
  await switchyard.start();
  const calculator = awilix.resolve('calculator');

  const caller = createClient({ registry: fx.registry });
  fx.onClose(() => caller.close());
  const invoices = caller.proxy(InvoicesService);
  const calls = Array.from({ length: inFlight }, (_, i) => invoices.total([i, 1]));
  await gate.allArrived;
  const disposing = awilix.dispose();
  // Each call now adds through the proxy: it works only if the client outlives the drain.
  gate.release();
  assert.deepEqual(await Promise.all(calls), [1, 2, 3, 4]);
  await disposing;
  await assert.rejects(calculator.add(1, 1), { code: Code.UNAVAILABLE, message: /client is closed/ });
  // Closing again (as a test's cleanup might) is a no-op.
  await switchyard.close();
});

test('registerSwitchyard refuses a provider without a server and entries that are no service definitions', async () => {
  const awilix = createAwilixContainer();
  awilix.register({ invoices: asValue({ total: async () => 0 }) });
  const switchyard = registerSwitchyard(awilix, { providers: { invoices: InvoicesService } });
  await assert.rejects(switchyard.start(), { code: Code.FAILED_PRECONDITION, message: /invoices is to be provided, but no server was given/ });
  await awilix.dispose();
  assert.throws(() => registerSwitchyard(createAwilixContainer(), { references: { calculator: [{} as never] } }), { code: Code.INVALID_ARGUMENT, message: /references\.calculator takes a service definition/ });
});

test('importing switchyard never loads awilix; only its adapter module does', async () => {
  const importsOf = async (entry: string) => {
    const { metafile } = await build({ entryPoints: [fileURLToPath(new URL(entry, import.meta.url))], bundle: true, write: false, metafile: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'silent' });
    return new Set(Object.values(metafile.inputs).flatMap((input) => input.imports.filter((i) => i.external).map((i) => i.path)));
  };
  const main = await importsOf('../../src/index.ts');
  assert.ok(main.has('msgpackr'), 'the check sees package imports');
  assert.equal([...main].some((path) => path === 'awilix' || path.startsWith('awilix/')), false);
  assert.ok((await importsOf('../../src/di/awilix.ts')).has('awilix'));
});
