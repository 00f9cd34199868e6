import type { TestContext } from 'node:test';
import { createClient, createServer, type Logger, type ServerOptions, type ServiceDefinition, type ServiceProxy } from '../../src/index.js';
import { onCleanup } from '../support/calculator.js';

/** What a server logged at error level, for tests that check a result refused by its schema was logged. */
export interface LoggedError {
  obj: Record<string, unknown>;
  msg: string | undefined;
}

/** A logger that keeps the errors it is given and drops the rest. */
export function errorLog(): { logger: Logger; errors: LoggedError[] } {
  const errors: LoggedError[] = [];
  const noop = (): void => {};
  return { errors, logger: { debug: noop, info: noop, warn: noop, error: (obj, msg) => errors.push({ obj: obj as Record<string, unknown>, msg }) } };
}

/** A server on a free loopback port providing `implementation`, and a proxy of it; both closed when the test ends. */
export async function serve<T>(t: TestContext, definition: ServiceDefinition<T>, implementation: T, options: Omit<ServerOptions, 'listen'> & { listen?: string } = {}): Promise<ServiceProxy<T>> {
  const { listen = 'tcp://127.0.0.1:0', ...serverOptions } = options;
  const server = createServer({ registry: false, ...serverOptions, listen: [listen] });
  server.provide(definition, implementation);
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const [address] = await server.listen();
  const client = createClient({ url: address!, cluster: 'failfast', circuitBreaker: false });
  onCleanup(t, () => client.close({ timeoutMs: 2000 }));
  return client.proxy(definition);
}
