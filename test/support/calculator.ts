import type { TestContext } from 'node:test';
import {
  Code,
  RpcError,
  createClient,
  createServer,
  currentCall,
  defineService,
  type Client,
  type ClientOptions,
  type Metadata,
  type Server,
  type ServerOptions,
  type ServiceProxy,
} from '../../src/index.js';

/** The service the integration tests call. */
export interface Calculator {
  add(a: number, b: number): Promise<number>;
  /** Rejects `b === 0` with INVALID_ARGUMENT and details `{ field: 'b', value: 0 }`. */
  divide(a: number, b: number): Promise<number>;
  /** Resolves `ms` after it starts, or rejects with the signal's reason once the call is aborted. */
  slow(ms: number): Promise<number>;
  echo(bytes: Uint8Array): Promise<Uint8Array>;
  /** One-way: records `x` in `log.notified`. */
  notify(x: number): Promise<void>;
  /** Throws a `QuotaError`, a plain `Error` subclass. */
  fail(): Promise<never>;
}

export const CalculatorService = defineService<Calculator>('demo.Calculator', {
  version: '1.0.0',
  methods: {
    add: {},
    divide: { timeoutMs: 500 },
    slow: {},
    echo: {},
    notify: { oneWay: true },
    fail: {},
  },
});

export class QuotaError extends Error {
  override name = 'QuotaError';
}

/** What the server saw of one call, recorded when the handler starts. */
export interface CallRecord {
  method: string;
  args: unknown[];
  metadata: Metadata;
  deadline: number | undefined;
  receivedAt: number;
}

/** One run of `slow`. */
export interface SlowRecord {
  ms: number;
  deadline: number | undefined;
  finished: boolean;
  aborted: boolean;
  abortedAt: number | undefined;
  abortReason: unknown;
}

/** Everything the implementation records, for tests to inspect. */
export interface CalculatorLog {
  calls: CallRecord[];
  slow: SlowRecord[];
  notified: number[];
}

export function newLog(): CalculatorLog {
  return { calls: [], slow: [], notified: [] };
}

function record(log: CalculatorLog, method: string, args: unknown[]) {
  const call = currentCall();
  log.calls.push({ method, args, metadata: call.metadata, deadline: call.deadline, receivedAt: Date.now() });
  return call;
}

/** An implementation that records every call in `log`. */
export function calculatorImpl(log: CalculatorLog): Calculator {
  return {
    async add(a, b) {
      record(log, 'add', [a, b]);
      return a + b;
    },
    async divide(a, b) {
      record(log, 'divide', [a, b]);
      if (b === 0) throw new RpcError(Code.INVALID_ARGUMENT, 'cannot divide by zero', { details: { field: 'b', value: 0 } });
      return a / b;
    },
    async slow(ms) {
      const { signal, deadline } = record(log, 'slow', [ms]);
      const entry: SlowRecord = { ms, deadline, finished: false, aborted: false, abortedAt: undefined, abortReason: undefined };
      log.slow.push(entry);
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => {
          clearTimeout(timer);
          entry.aborted = true;
          entry.abortedAt = Date.now();
          entry.abortReason = signal?.reason;
          reject(signal?.reason);
        };
        const timer = setTimeout(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }, ms);
        if (signal?.aborted) onAbort();
        else signal?.addEventListener('abort', onAbort, { once: true });
      });
      entry.finished = true;
      return ms;
    },
    async echo(bytes) {
      record(log, 'echo', [bytes]);
      return bytes;
    },
    async notify(x) {
      record(log, 'notify', [x]);
      log.notified.push(x);
    },
    async fail() {
      record(log, 'fail', []);
      throw new QuotaError('quota of 10 calls exceeded');
    },
  };
}

export interface StartServerOptions extends Omit<ServerOptions, 'listen'> {
  /** Builds the Calculator implementation; default `calculatorImpl`. */
  implementation?: (log: CalculatorLog) => Calculator;
  /** Provides further services before the server starts listening. */
  setup?: (server: Server) => void;
}

export interface StartedServer {
  server: Server;
  address: string;
  log: CalculatorLog;
}

/** A server on a free loopback port providing the Calculator; closed when the test ends. */
export async function startServer(t: TestContext, options: StartServerOptions = {}): Promise<StartedServer> {
  const { implementation = calculatorImpl, setup, ...serverOptions } = options;
  const log = newLog();
  const server = createServer({ ...serverOptions, listen: ['tcp://127.0.0.1:0'] });
  server.provide(CalculatorService, implementation(log));
  setup?.(server);
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const [address] = await server.listen();
  return { server, address: address!, log };
}

export interface StartedClient {
  client: Client;
  calc: ServiceProxy<Calculator>;
}

/** A client of `address` with a Calculator proxy; closed when the test ends. */
export function startClient(t: TestContext, address: string, options: Omit<ClientOptions, 'url'> = {}): StartedClient {
  const client = createClient({ ...options, url: address });
  onCleanup(t, () => client.close({ timeoutMs: 2000 }));
  return { client, calc: client.proxy(CalculatorService) };
}

const cleanups = new WeakMap<TestContext, Array<() => unknown>>();

/** Runs `fn` when the test ends, after the cleanups registered later than it (last in, first out). */
export function onCleanup(t: TestContext, fn: () => unknown): void {
  let stack = cleanups.get(t);
  if (stack === undefined) {
    const fresh: Array<() => unknown> = [];
    stack = fresh;
    cleanups.set(t, fresh);
    t.after(async () => {
      for (let next = fresh.pop(); next !== undefined; next = fresh.pop()) await next();
    });
  }
  stack.push(fn);
}

/** Resolves once `predicate` holds, checking every 5 ms; rejects after `timeoutMs`. */
export async function waitUntil(predicate: () => boolean, timeoutMs = 2000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
