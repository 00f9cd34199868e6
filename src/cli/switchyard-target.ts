// Where a `switchyard` command looks: a provider address (`tcp://…`, `http://…`, `grpc://…`) or a
// registry (`embedded`, `embedded:///dir`, `zookeeper://host:port`, `etcd://host:port`), and what it reads there.
import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import type { ServiceKey } from '../core/service.js';
import { openRegistry } from '../registry/index.js';
import { loggedProviderUrl, type Provider } from '../registry/provider.js';
import type { Registry } from '../registry/registry.js';
import { hasTransport } from '../transport/registry.js';
import { UsageError, stderrLogger } from './switchyard-command.js';

/** A command's first argument: a provider address to dial, or a registry to look providers up in. */
export type Target = { readonly kind: 'url'; readonly url: string } | { readonly kind: 'registry'; readonly spec: string };

/** `tcp://127.0.0.1:20880` is a url (its scheme is a transport's), anything else a registry spec. */
export function parseTarget(text: string): Target {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(text)?.[1];
  return scheme !== undefined && hasTransport(scheme) ? { kind: 'url', url: text } : { kind: 'registry', spec: text };
}

/**
 * Opens a registry for looking only. On ZooKeeper the command announces no `consumer://` node and
 * writes no cache file (it shows what ZooKeeper says, not what it said before), unless the address
 * asks for them.
 */
export async function openForLooking(spec: string): Promise<Registry> {
  let address = spec;
  if (/^(zookeeper|etcd):\/\//i.test(spec)) {
    for (const [key, value] of [['registerConsumers', 'false'], ['cacheFile', 'false']]) {
      if (!new RegExp(`[?&]${key}=`).test(address)) address += `${address.includes('?') ? '&' : '?'}${key}=${value}`;
    }
  }
  const { registry } = await openRegistry(address, stderrLogger);
  return registry;
}

/** The names of the services a registry holds, or UNIMPLEMENTED when it cannot list them. */
export async function serviceNames(registry: Registry): Promise<string[]> {
  if (registry.services === undefined) {
    throw new RpcError(Code.UNIMPLEMENTED, 'this registry cannot list its services; name one');
  }
  return registry.services();
}

/**
 * The providers of a service as the registry first reports them; UNAVAILABLE when it has not
 * answered within `timeoutMs`. A service the registry does not list (`listed` false and the
 * registry can list) has none, and is not subscribed to: a subscription makes the service's folder
 * or ZooKeeper path, which a command that only looks must not leave behind.
 */
export async function currentProviders(registry: Registry, name: string, timeoutMs: number, listed = false): Promise<Provider[]> {
  if (!listed && registry.services !== undefined && !(await registry.services()).includes(name)) return [];
  return firstAnswer(registry, name, timeoutMs);
}

function firstAnswer(registry: Registry, name: string, timeoutMs: number): Promise<Provider[]> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let stop: (() => void) | undefined;
    const settle = (done: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Called from inside the subscription's callback: leave it after the callback returns.
      queueMicrotask(() => stop?.());
      done();
    };
    const timer = setTimeout(() => settle(() => reject(new RpcError(Code.UNAVAILABLE,
      `no answer from the registry about ${name} within ${timeoutMs} ms`))), timeoutMs);
    try {
      stop = registry.subscribe({ name }, (providers) => settle(() => resolve(providers)));
    } catch (error) {
      settle(() => reject(error));
    }
  });
}

/** A provider as `ls`, `watch --json` and `describe --json` print it (with any provider token masked). */
export function providerJson(provider: Provider): Record<string, unknown> {
  return {
    url: loggedProviderUrl(provider),
    address: provider.address,
    protocol: provider.protocol,
    version: provider.service.version ?? null,
    group: provider.service.group ?? null,
    weight: provider.weight,
    methods: provider.methods,
  };
}

/** What a call asks for with `--version` and `--group`, each possibly absent. */
export interface WantedKey {
  version?: string;
  group?: string;
}

/**
 * The version and group to call among the keys a service is served under. Given ones are kept; a
 * missing one is filled in when the choice is clear: the key with none (what the library calls by
 * default), else the only one there is. Several candidates and no way to choose is a usage error.
 */
export function chooseKey(name: string, served: readonly ServiceKey[], wanted: WantedKey): WantedKey {
  if (wanted.version !== undefined && wanted.group !== undefined) return wanted;
  const candidates = served.filter((key) =>
    (wanted.version === undefined || key.version === wanted.version) && (wanted.group === undefined || key.group === wanted.group));
  const plain = candidates.find((key) =>
    (wanted.version !== undefined || key.version === undefined) && (wanted.group !== undefined || key.group === undefined));
  if (plain !== undefined || candidates.length === 0) return wanted;
  const distinct = new Map(candidates.map((key) => [`${key.group ?? ''}/${key.version ?? ''}`, key]));
  if (distinct.size === 1) {
    const [only] = distinct.values();
    return { version: wanted.version ?? only!.version, group: wanted.group ?? only!.group };
  }
  const listed = [...distinct.values()].map((key) => `version ${key.version ?? '(none)'} group ${key.group ?? '(none)'}`).join('; ');
  throw new UsageError(`${name} is served as several versions or groups (${listed}): pick one with --version and --group`);
}
