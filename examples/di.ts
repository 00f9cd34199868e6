// Dependency injection with standard decorators: a provider class and a consumer class with an
// injected proxy, each in a container of its own, then the same consumer wired by awilix.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asClass, createContainer as createAwilixContainer } from 'awilix';
import type { ServiceProxy } from '../src/index.js';
import { Inject, Provide, Reference, createContainer } from '../src/di/index.js';
import { registerSwitchyard, type ReferenceProxies } from '../src/di/awilix.js';
import { CalculatorImpl, CalculatorService, type Calculator } from './calculator.js';

@Provide(CalculatorService)
class CalculatorProvider extends CalculatorImpl {}

class TaxTable {
  readonly rate = 0.2;
}

class Invoices {
  @Reference(CalculatorService, { loadBalance: 'roundrobin', timeoutMs: 1000 })
  private readonly calculator!: ServiceProxy<Calculator>;

  @Inject(TaxTable)
  private readonly taxes!: TaxTable;

  async total(lines: number[]): Promise<number> {
    let sum = 0;
    for (const line of lines) sum = await this.calculator.add(sum, line);
    return this.calculator.add(sum, sum * this.taxes.rate);
  }
}

// A registry folder of this run's own, so that nothing else running on this machine answers.
const dir = await mkdtemp(join(tmpdir(), 'switchyard-di-example-'));
const registry = `embedded://${dir}` as const;

const provider = createContainer({ registry, server: { listen: ['tcp://127.0.0.1:0'] }, classes: [CalculatorProvider] });
console.log('provider listening on', await provider.start());

const consumer = createContainer({ registry, classes: [TaxTable, Invoices] });
console.log('invoice total with tax:', await consumer.get(Invoices).total([10, 20, 12.5]));
await consumer.close();

// The same proxy from awilix, injected into a constructor through awilix's cradle.
const references = { calculator: CalculatorService };
class Receipts {
  private readonly calculator: ServiceProxy<Calculator>;

  constructor({ calculator }: ReferenceProxies<typeof references>) {
    this.calculator = calculator;
  }

  async print(a: number, b: number): Promise<string> {
    return `receipt: ${a} + ${b} = ${await this.calculator.add(a, b)}`;
  }
}
const awilix = createAwilixContainer();
awilix.register({ receipts: asClass(Receipts).singleton() });
registerSwitchyard(awilix, { registry, references });
console.log(await awilix.resolve<Receipts>('receipts').print(4, 5));
await awilix.dispose();            // closes the client registerSwitchyard made

await provider.close();            // the server drains, then leaves the registry
await rm(dir, { recursive: true, force: true });
