import assert from 'node:assert/strict';
import { createClient, type Client, type ClientOptions, type ServiceProxy } from '../client.js';
import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import { createServer, type Server, type ServerOptions } from '../server.js';
import { Probe } from './probe.js';
import { ConformanceService, conformanceImplementation, type Conformance } from './service.js';
import type { ValueColumn } from './values.js';

/** A transport under test, as one line of a test file's table. */
export interface ConformanceTransport {
  /** Shown in the test names, e.g. `tcp`. */
  readonly name: string;
  /**
   * Where a server of the suite listens: an address with port 0, or a function that makes a fresh
   * address for each server (an exchange of its own on a broker, say). The suite starts two servers.
   */
  readonly listen: string | (() => string);
  /** The url a client dials, from the address the server bound and the one it was asked for. Default: the bound one. */
  readonly clientUrl?: (bound: string, requested: string) => string;
  /** Client options besides `url` (a serializer, say). */
  readonly client?: Omit<ClientOptions, 'url'>;
  /** Server options besides `listen`. */
  readonly server?: Omit<ServerOptions, 'listen'>;
  /** Which column of the values table the transport follows. Default: the client's serializer, else msgpack. */
  readonly values?: ValueColumn;
  /** Rows (or groups of rows, by the name before the colon) this transport cannot do, with the reason; reported as skipped. */
  readonly exceptions?: Readonly<Record<string, string>>;
  /** Rows expected to fail until work named in the reason lands; they run, and are reported as todo. */
  readonly todo?: Readonly<Record<string, string>>;
  /** Runs before the first server starts (waits for a broker, say). */
  readonly before?: () => Promise<void>;
  /** Runs after the last server closed (deletes what a broker kept, say). */
  readonly after?: () => Promise<void>;
}

/** Options a row adds to the transport's own for peers of its own. */
export interface PeerOptions {
  readonly server?: Omit<ServerOptions, 'listen'>;
  readonly client?: Omit<ClientOptions, 'url'>;
}

/** A server of the suite's service and a client of it. */
export interface Peers {
  readonly server: Server;
  readonly client: Client;
  readonly service: ServiceProxy<Conformance>;
}

/** What every row gets: the transport, the shared peers and the handlers' probe. */
export interface Fixture extends Peers {
  readonly transport: ConformanceTransport;
  readonly column: ValueColumn;
  readonly probe: Probe;
  /**
   * Starts a server and client of their own (a row that closes its server, or needs options of its
   * own, such as `auth`, given on top of the transport's); closed with the suite.
   */
  startPeers(options?: PeerOptions): Promise<Peers>;
}

/** Starts the suite's shared server and client; `close` ends everything the fixture started. */
export async function startFixture(transport: ConformanceTransport): Promise<Fixture & { close(): Promise<void> }> {
  const probe = new Probe();
  const started: Peers[] = [];
  const startPeers = async (options: PeerOptions = {}): Promise<Peers> => {
    const listen = typeof transport.listen === 'function' ? transport.listen() : transport.listen;
    const server = createServer({ registry: false, ...transport.server, ...options.server, listen: [listen] });
    server.provide(ConformanceService, conformanceImplementation(probe));
    const [bound] = await server.listen();
    assert.ok(bound !== undefined, `${transport.name}: the server bound no address`);
    // Fail-fast and no breaker: a row sees what the transport did, not a retry or a tripped circuit.
    const client = createClient({ cluster: 'failfast', circuitBreaker: false, timeoutMs: 30_000, ...transport.client, ...options.client, url: transport.clientUrl?.(bound, listen) ?? bound });
    const peers = { server, client, service: client.proxy(ConformanceService) };
    started.push(peers);
    return peers;
  };
  const shared = await startPeers();
  return {
    ...shared,
    transport,
    column: transport.values ?? (transport.client?.serializer === 'json' ? 'json' : 'msgpack'),
    probe,
    startPeers,
    async close() {
      for (const peers of started.reverse()) {
        await peers.client.close({ timeoutMs: 2000 }).catch(() => undefined);
        await peers.server.close({ timeoutMs: 2000 }).catch(() => undefined);
      }
    },
  };
}

/** The RpcError `promise` rejects with; fails the row if it resolves or rejects with anything else. */
export async function rejectionOf(promise: Promise<unknown>, what: string): Promise<RpcError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof RpcError, `${what}: expected an RpcError, got ${String(error)}`);
    return error;
  }
  assert.fail(`${what}: the call succeeded, but should have failed`);
}

/** One behaviour of the table: `<group>: <what every transport does>`, and the check of it. */
export interface Row {
  readonly name: string;
  readonly run: (fixture: Fixture) => Promise<void>;
}

/**
 * Codes a call may fail with when its handler broke its method's contract (a unary method returned
 * a stream, a streaming one no iterable): the fault is the server's, never the caller's input.
 */
export const mistakeCodes: readonly Code[] = [Code.INTERNAL, Code.FAILED_PRECONDITION];
