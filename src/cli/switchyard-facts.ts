// What `describe` prints and `call` needs to know of a service before calling it: its providers in a
// registry, and what a server says of its methods through the introspection service.
import { createClient, type Client } from '../client.js';
import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import type { ServiceKey } from '../core/service.js';
import type { Provider } from '../registry/provider.js';
import type { Registry } from '../registry/registry.js';
import { stderrLogger } from './switchyard-command.js';
import { introspect, notDescribed, type ServiceInfo } from './switchyard-introspection.js';
import { currentProviders, type Target, type WantedKey } from './switchyard-target.js';

/** Where a command reaches a service, and how. */
export interface Reach {
  readonly target: Target;
  /** A client of the target: of its url, or of `registry`. */
  readonly client: Client;
  /** The registry opened for a registry target. */
  readonly registry?: Registry;
  /** Bearer token of every call. */
  readonly token?: string;
  /** Protocol a registry-found provider is preferred on. */
  readonly protocol?: string;
  /** How long to wait for the registry's answer and for a server's description. */
  readonly waitMs: number;
}

/** What is known of a service. */
export interface ServiceFacts {
  /** The providers a registry lists (registry targets only). */
  readonly providers?: Provider[];
  /** What a server says of the service (each version and group it provides); undefined when none could say. */
  readonly described?: ServiceInfo[];
  /** Where `described` came from. */
  readonly describedBy?: string;
}

/**
 * Gathers the facts of `service`: a url target is asked directly; for a registry target, the
 * registry lists the providers and one of them (of the wanted key and protocol, if any) is asked.
 * A server without the introspection service leaves `described` undefined; one out of reach, or a
 * registry that lists no provider, fails with UNAVAILABLE.
 */
export async function gatherFacts(reach: Reach, service: string, wanted: WantedKey = {}): Promise<ServiceFacts> {
  if (reach.target.kind === 'url') {
    return { described: await describeOrNot(reach.client, service, reach.waitMs), describedBy: reach.target.url };
  }
  const providers = await currentProviders(reach.registry!, service, reach.waitMs);
  if (providers.length === 0) throw new RpcError(Code.UNAVAILABLE, `the registry lists no provider of ${service}`);
  const asked = providers.find((provider) => keyMatches(provider.service, wanted) && (reach.protocol === undefined || provider.protocol === reach.protocol))
    ?? providers.find((provider) => keyMatches(provider.service, wanted)) ?? providers[0]!;
  const client = createClient({ url: asked.address, credentials: reach.token, logger: stderrLogger, waitForProvidersMs: reach.waitMs });
  try {
    // A provider that cannot be reached is no reason not to try the others: the call will.
    const described = await describeOrNot(client, service, reach.waitMs).catch(() => undefined);
    return { providers, described, describedBy: asked.address };
  } finally {
    await client.close({ timeoutMs: 1000 });
  }
}

/** What a server says of `service`; undefined when it has no introspection service to say it. */
async function describeOrNot(client: Client, service: string, timeoutMs: number): Promise<ServiceInfo[] | undefined> {
  try {
    return await introspect(client, service, timeoutMs);
  } catch (error) {
    if (notDescribed(error)) return undefined;
    throw error;
  }
}

/**
 * Whether a served key is the one wanted: a version or group not given means "none", as a client
 * that names none calls the providers that have none; a range (`^1.2.0`) matches any version.
 */
export function keyMatches(key: ServiceKey, wanted: WantedKey): boolean {
  const version = wanted.version === undefined ? key.version === undefined : key.version === wanted.version || /[\^~<>=x* |]/.test(wanted.version);
  return version && (key.group ?? '') === (wanted.group ?? '');
}

/** The described service of the key chosen, if the server described it. */
export function describedKey(facts: ServiceFacts, key: WantedKey): ServiceInfo | undefined {
  return facts.described?.find((info) => keyMatches(info, key));
}
