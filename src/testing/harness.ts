import { createClient, type Client, type ClientOptions, type ServiceProxy } from '../client.js';
import type { CallOptions } from '../client.js';
import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import type { ServiceDefinition } from '../core/service.js';
import type { ReferenceOptions } from '../reference.js';
import type { RegistrySpec } from '../registry/index.js';
import { createServer, type Server, type ServerOptions } from '../server.js';
import { parseAddress } from '../transport/address.js';
import type { FaultControl, InprocFaults } from './faults.js';
import { listenerAt } from './inproc-network.js';

/** A service and its implementation, for `startServer({ services })`; made by `service()`. */
export interface ProvidedService {
  readonly definition: ServiceDefinition;
  readonly implementation: unknown;
}

/** Pairs a definition with its implementation, type-checked against each other. */
export function service<T>(definition: ServiceDefinition<T>, implementation: T): ProvidedService {
  return { definition: definition as ServiceDefinition, implementation };
}

export interface TestServerOptions extends Omit<ServerOptions, 'listen' | 'registry'> {
  /** What the server provides. More can be added later with `server.provide`. */
  services?: readonly ProvidedService[];
  /**
   * Where to listen: addresses, or bare schemes that take a free port (`'tcp'` is
   * `tcp://127.0.0.1:0`, `'inproc'` is `inproc://testing:0`). Default `['inproc']`.
   */
  listen?: readonly string[];
  /** Where to announce the services; default `false` (clients dial the address). */
  registry?: RegistrySpec | false;
  /** Faults of the first `inproc://` listener from the start. */
  faults?: InprocFaults;
  /** Seeds the faults' random choices; default a random seed, shown as `faults.seed`. */
  seed?: number;
  /** How long `close()` lets calls in flight finish before cutting them off. Default 2000 ms. */
  closeTimeoutMs?: number;
}

/** A listening server, with what a test needs of it; closed by `close()` or `await using`. */
export interface TestServer extends AsyncDisposable {
  readonly server: Server;
  /** Every bound address, in the order of `listen`. */
  readonly addresses: readonly string[];
  /** The first bound address. */
  readonly address: string;
  /** The faults of the first `inproc://` listener; throws FAILED_PRECONDITION if there is none. `close()` lifts them first. */
  readonly faults: FaultControl<InprocFaults>;
  close(): Promise<void>;
}

/**
 * Starts a server on free addresses (in memory by default) and provides `services`; with no
 * registry unless one is given, and no warm-up (`warmupMs: 0`) so that balancers see every provider
 * at its full weight at once.
 *
 * ```ts
 * await using server = await startServer({ services: [service(CalculatorService, calculator)] });
 * ```
 */
export async function startServer(options: TestServerOptions = {}): Promise<TestServer> {
  const { services = [], listen = ['inproc'], registry = false, faults, seed, closeTimeoutMs = 2000, ...serverOptions } = options;
  const server = createServer({ warmupMs: 0, ...serverOptions, registry, listen: listen.map(freeAddress) });
  for (const provided of services) server.provide(provided.definition, provided.implementation);
  // A failed listen has closed the server already.
  const addresses = await server.listen();
  const control = addresses.map((address) => (isInproc(address) ? listenerAt(address)?.faults : undefined)).find((found) => found !== undefined);
  try {
    // Before any client can connect: a dial is answered on a later turn of the event loop.
    if (seed !== undefined) control?.reseed(seed);
    if (faults !== undefined) {
      if (control === undefined) throw new RpcError(Code.INVALID_ARGUMENT, 'the faults option needs an inproc:// listener; put a faultProxy in front of a tcp:// one');
      control.set(faults);
    }
  } catch (error) {
    await server.close({ timeoutMs: 0 });
    throw error;
  }
  let closing: Promise<void> | undefined;
  const started: TestServer = {
    server,
    addresses,
    address: addresses[0]!,
    get faults() {
      if (control === undefined) throw new RpcError(Code.FAILED_PRECONDITION, `${addresses.join(', ')} has no inproc:// listener, whose faults these would be; put a faultProxy in front of a tcp:// one`);
      return control;
    },
    close() {
      // The scenario is over: what the faults hold back (a frozen call, a blackholed GOAWAY) goes on, so the drain ends.
      control?.clear();
      closing ??= server.close({ timeoutMs: closeTimeoutMs });
      return closing;
    },
    [Symbol.asyncDispose]() {
      return started.close();
    },
  };
  return started;
}

/** A client with what a test needs of it; closed by `close()` or `await using`. */
export interface TestClient extends AsyncDisposable {
  readonly client: Client;
  /** `client.proxy`: a typed stub of `definition`. */
  proxy<T>(definition: ServiceDefinition<T>, options?: ReferenceOptions & CallOptions): ServiceProxy<T>;
  close(): Promise<void>;
}

/** What a test client dials: started servers (each at its first address) or addresses. */
export type ClientTarget = TestServer | string | ReadonlyArray<TestServer | string>;

/**
 * Starts a client of `target` (servers or addresses), or one made from full client options (a
 * registry, say). Calls in flight get 2000 ms to finish when it closes.
 *
 * ```ts
 * await using client = startClient(server, { timeoutMs: 1000 });
 * const calc = client.proxy(CalculatorService);
 * ```
 */
export function startClient(target: ClientTarget, options?: Omit<ClientOptions, 'url'>): TestClient;
export function startClient(options: ClientOptions): TestClient;
export function startClient(target: ClientTarget | ClientOptions, options: Omit<ClientOptions, 'url'> = {}): TestClient {
  const client = isTarget(target) ? createClient({ ...options, url: urlsOf(target) }) : createClient(target);
  let closing: Promise<void> | undefined;
  const started: TestClient = {
    client,
    proxy: (definition, proxyOptions) => client.proxy(definition, proxyOptions),
    close() {
      closing ??= client.close({ timeoutMs: 2000 });
      return closing;
    },
    [Symbol.asyncDispose]() {
      return started.close();
    },
  };
  return started;
}

/**
 * Runs `fn` with a started server and a client of it, and closes both when it settles, however it
 * settles: the shortest way to a call through a real proxy.
 *
 * ```ts
 * const sum = await withServer({ services: [service(CalculatorService, calculator)] },
 *   ({ client }) => client.proxy(CalculatorService).add(1, 2));
 * ```
 */
export async function withServer<R>(
  options: TestServerOptions & { client?: Omit<ClientOptions, 'url'> },
  fn: (peers: { server: TestServer; client: TestClient }) => R | Promise<R>,
): Promise<R> {
  const { client: clientOptions, ...serverOptions } = options;
  await using server = await startServer(serverOptions);
  await using client = startClient(server, clientOptions);
  return await fn({ server, client });
}

/** A bare scheme as an address with a free port; an address as it is. */
function freeAddress(listen: string): string {
  if (listen.includes(':')) return listen;
  return listen === 'inproc' ? 'inproc://testing:0' : `${listen}://127.0.0.1:0`;
}

function isInproc(address: string): boolean {
  return parseAddress(address).protocol === 'inproc';
}

function isTarget(value: ClientTarget | ClientOptions): value is ClientTarget {
  return typeof value === 'string' || Array.isArray(value) || isTestServer(value);
}

function isTestServer(value: unknown): value is TestServer {
  return typeof value === 'object' && value !== null && 'server' in value && 'addresses' in value;
}

function urlsOf(target: ClientTarget): string[] {
  const targets: ReadonlyArray<TestServer | string> = Array.isArray(target) ? target : [target as TestServer | string];
  return targets.map((one) => (typeof one === 'string' ? one : one.address));
}
