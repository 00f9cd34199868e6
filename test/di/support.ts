import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { defineService, type ServiceProxy } from '../../src/index.js';
import { Provide, Reference, createContainer, type Container, type ContainerOptions } from '../../src/di/index.js';

/** Every implementation answers `whoAmI` with its own label, so a test sees which provider a call reached. */
export interface Calculator {
  add(a: number, b: number): Promise<number>;
  whoAmI(): Promise<string>;
}

const methods = { add: {}, whoAmI: {} };
export const CalculatorV1 = defineService<Calculator>('di.Calculator', { version: '1.0.0', methods });
export const CalculatorV2 = defineService<Calculator>('di.Calculator', { version: '2.0.0', methods });
export const CalculatorBlue = defineService<Calculator>('di.Calculator', { version: '1.0.0', group: 'blue', methods });

@Provide(CalculatorV1)
export class CalculatorOne implements Calculator {
  /** Calls this instance served: shows that the container's singleton is the one the server calls. */
  calls = 0;

  async add(a: number, b: number): Promise<number> {
    this.calls++;
    return a + b;
  }

  async whoAmI(): Promise<string> {
    return 'v1';
  }
}

/** A subclass that provides a service of its own; it must not provide CalculatorV1 too. */
@Provide(CalculatorV2)
export class CalculatorTwo extends CalculatorOne {
  override async whoAmI(): Promise<string> {
    return 'v2';
  }
}

@Provide(CalculatorBlue)
export class CalculatorBlueOne extends CalculatorOne {
  override async whoAmI(): Promise<string> {
    return 'blue';
  }
}

/** A consumer: sums numbers through the calculator it is given. */
export class Totals {
  @Reference(CalculatorV1, { timeoutMs: 5000 })
  readonly calculator!: ServiceProxy<Calculator>;

  async total(values: number[]): Promise<number> {
    let sum = 0;
    for (const value of values) sum = await this.calculator.add(sum, value);
    return sum;
  }
}

export interface DiFixture {
  /** The address of a registry folder of this test's own. */
  readonly registry: `embedded://${string}`;
  /** A container in the test's registry, closed when the test ends, the newest first. */
  container(options?: ContainerOptions): Container;
  /** Runs `close` when the test ends, before the containers made earlier are closed. */
  onClose(close: () => Promise<void>): void;
  /** A server on a free loopback port in the test's registry, for a container to provide on. */
  server(): ContainerOptions['server'];
}

/** An embedded registry in a temporary folder, and the containers of one test, all closed and removed when it ends. */
export async function diFixture(t: TestContext): Promise<DiFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-di-'));
  const registry = `embedded://${dir}` as const;
  const closers: Array<() => Promise<void>> = [];
  t.after(async () => {
    for (const close of closers.reverse()) await close();
    await rm(dir, { recursive: true, force: true });
  });
  return {
    registry,
    container(options = {}) {
      const container = createContainer({ registry, ...options });
      closers.push(() => container.close());
      return container;
    },
    onClose(close) {
      closers.push(close);
    },
    server: () => ({ listen: ['tcp://127.0.0.1:0'], registry }),
  };
}
