/**
 * What the TLS tests share: a service that tells the caller who the server thinks it is, servers
 * and clients over `tls://` and `https://` that close when the test ends, and the error a call
 * failed with.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { createClient, createServer, currentCall, defineService, RpcError, type ClientOptions, type ServerOptions } from '../../src/index.js';
import { onCleanup } from '../support/calculator.js';

/** The caller as the server saw it: its principal, trimmed to what the tests check. */
export interface Caller {
  id: string;
  via: string;
  sans: string[];
  issuerCN: string;
}

export interface Identity {
  whoami(): Promise<Caller | null>;
  add(a: number, b: number): Promise<number>;
  /** Resolves once `release()` (below) is called: a call that spans whatever the test does meanwhile. */
  hold(): Promise<string>;
}

export const IdentityService = defineService<Identity>('tls.Identity', { methods: { whoami: {}, add: {}, hold: {} } });

let waiting: Array<() => void> = [];

/** Lets every `hold` call in progress answer. */
export function release(): void {
  for (const resume of waiting) resume();
  waiting = [];
}

/** Calls of `hold` waiting for `release`. */
export function holding(): number {
  return waiting.length;
}

const identity: Identity = {
  async whoami() {
    const principal = currentCall().principal;
    if (principal === undefined) return null;
    const claims = principal.claims as { sans: string[]; issuer: Record<string, string> };
    return { id: principal.id, via: principal.via, sans: claims.sans, issuerCN: claims.issuer.CN ?? '' };
  },
  async add(a, b) {
    return a + b;
  },
  hold() {
    return new Promise((resolve) => waiting.push(() => resolve('held')));
  },
};

/** A server of the Identity service on `listen` (port 0), without a registry unless given one; closed when the test ends. */
export async function serve(t: TestContext, listen: string | string[], options: Omit<ServerOptions, 'listen'> = {}): Promise<string[]> {
  const server = createServer({ registry: false, ...options, listen: [listen].flat() });
  server.provide(IdentityService, identity);
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  return server.listen();
}

/** A fail-fast client of the Identity service; closed when the test ends. */
export function identityClient(t: TestContext, options: ClientOptions) {
  const client = createClient({ cluster: 'failfast', circuitBreaker: false, connectTimeoutMs: 10_000, ...options });
  onCleanup(t, () => client.close({ timeoutMs: 2000 }));
  return client.proxy(IdentityService);
}

/** The RpcError a call failed with; fails the test if it succeeded. */
export async function failureOf(call: Promise<unknown>): Promise<RpcError> {
  try {
    await call;
  } catch (error) {
    assert.ok(error instanceof RpcError, `expected an RpcError, got ${String(error)}`);
    return error;
  }
  assert.fail('the call succeeded, but should have failed');
}
