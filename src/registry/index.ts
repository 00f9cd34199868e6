import { ExtensionTable } from '../core/extension-table.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { createEmbeddedRegistry } from './embedded.js';
import { openEtcdAddress } from './etcd-address.js';
import type { Registry } from './registry.js';
import { maskRegistryAddress, openZooKeeperAddress } from './zookeeper-address.js';

/** What an opener is given besides the address. */
export interface RegistryContext {
  /** Receives what the registry reports (a refused folder, an ignored entry, an outage). */
  readonly logger: Logger;
}

/**
 * Opens the registry of an address of its scheme (the whole address, e.g. `memory://team-a`), for
 * one server or client, which closes it when it closes.
 */
export type RegistryOpener = (address: string, context: RegistryContext) => Registry | Promise<Registry>;

/** Registries by the scheme of their addresses. */
const openers = new ExtensionTable<RegistryOpener>('registry', 'scheme', (value): value is RegistryOpener => typeof value === 'function', [
  ['embedded', openEmbeddedAddress],
  ['zookeeper', openZooKeeperAddress],
  ['etcd', openEtcdAddress],
]);

/**
 * A registry given by address: `embedded`, `embedded:///some/dir`,
 * `zookeeper://[user:password@]host:port[,host:port][/root][?sessionTimeoutMs=&connectTimeoutMs=&cacheFile=&cacheAfterMs=&rulesPath=]`,
 * `etcd://[user:password@]host:port[,host:port][/prefix][?leaseTtlS=&dialTimeoutMs=&cacheFile=&cacheAfterMs=&rulesPath=]`,
 * `<scheme>://...` of a scheme added with `registerRegistry`, or a `Registry` object.
 */
export type RegistrySpec = 'embedded' | `embedded://${string}` | `zookeeper://${string}` | `etcd://${string}` | (string & {}) | Registry;

/**
 * Makes `registry: '<scheme>://...'` addresses open registries with `opener`. A scheme is registered
 * once: a taken one (`embedded`, `zookeeper`, `etcd` included) is refused with INVALID_ARGUMENT, as is one
 * that is not a lower-case URL scheme.
 *
 * ```ts
 * registerRegistry('memory', (address) => new MemoryRegistry(new URL(address).host));
 * createServer({ listen: ['tcp://127.0.0.1:0'], registry: 'memory://team-a' });
 * ```
 */
export function registerRegistry(scheme: string, opener: RegistryOpener): void {
  openers.register(scheme, opener);
}

/**
 * Opens the registry a spec names. `owned` says whether the caller made it (and so must close it),
 * as opposed to a `Registry` object it was handed. `logger` receives what a registry made from a
 * string reports (a refused folder, an ignored entry or cache file, ZooKeeper outages).
 */
export async function openRegistry(spec: RegistrySpec, logger?: Logger): Promise<{ registry: Registry; owned: boolean }> {
  if (typeof spec !== 'string') return { registry: spec, owned: false };
  // A bare scheme (`embedded`) names its registry's default address.
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(spec)?.[1]?.toLowerCase() ?? spec;
  // An unknown scheme is reported with the address, whose password must not reach a log.
  const registry = await openers.get(scheme, maskRegistryAddress(spec))(spec, { logger: logger ?? silentLogger });
  return { registry, owned: true };
}

/** `embedded` (the default folder), `embedded:` or `embedded:///some/dir`. */
function openEmbeddedAddress(address: string, { logger }: RegistryContext): Registry {
  const dir = /^embedded:\/\//i.test(address) ? decodeURIComponent(new URL(address).pathname) : '';
  return createEmbeddedRegistry(dir === '' || dir === '/' ? { logger } : { dir, logger });
}
