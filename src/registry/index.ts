import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import { createEmbeddedRegistry } from './embedded.js';
import type { Registry } from './registry.js';

/** A registry given by address: `embedded`, `embedded:///some/dir`, or `zookeeper://host:port[,host:port]`. */
export type RegistrySpec = string | Registry;

/**
 * Opens the registry a spec names. `owned` says whether the caller made it (and so must close it),
 * as opposed to a `Registry` object it was handed.
 */
export async function openRegistry(spec: RegistrySpec): Promise<{ registry: Registry; owned: boolean }> {
  if (typeof spec !== 'string') return { registry: spec, owned: false };
  if (spec === 'embedded' || spec.startsWith('embedded:')) {
    const dir = spec.startsWith('embedded://') ? decodeURIComponent(new URL(spec).pathname) : '';
    return { registry: createEmbeddedRegistry(dir === '' || dir === '/' ? {} : { dir }), owned: true };
  }
  if (spec.startsWith('zookeeper://')) {
    const url = new URL(spec.replace(/^zookeeper:\/\/([^/?]*)/, 'zookeeper://placeholder'));
    const connectString = /^zookeeper:\/\/([^/?]*)/.exec(spec)![1]!;
    const root = url.pathname.length > 1 ? url.pathname : undefined;
    const sessionTimeoutMs = url.searchParams.has('sessionTimeoutMs') ? Number(url.searchParams.get('sessionTimeoutMs')) : undefined;
    // Loaded only when asked for: the ZooKeeper client is an optional dependency.
    const { createZooKeeperRegistry } = await import('./zookeeper.js');
    return { registry: await createZooKeeperRegistry(connectString, { root, sessionTimeoutMs }), owned: true };
  }
  throw new RpcError(Code.INVALID_ARGUMENT, `unknown registry ${JSON.stringify(spec)}; use 'embedded' or 'zookeeper://host:port'`);
}
