import { Code } from '../core/code.js';
import type { Logger } from '../core/logger.js';
import { RpcError } from '../core/rpc-error.js';
import { createEmbeddedRegistry } from './embedded.js';
import type { Registry } from './registry.js';

/**
 * A registry given by address: `embedded`, `embedded:///some/dir`, or
 * `zookeeper://host:port[,host:port][/root][?sessionTimeoutMs=&connectTimeoutMs=&cacheFile=&cacheAfterMs=]`.
 */
export type RegistrySpec = string | Registry;

/**
 * Opens the registry a spec names. `owned` says whether the caller made it (and so must close it),
 * as opposed to a `Registry` object it was handed. `logger` receives what a registry made from a
 * string reports (a refused folder, an ignored entry or cache file, ZooKeeper outages).
 */
export async function openRegistry(spec: RegistrySpec, logger?: Logger): Promise<{ registry: Registry; owned: boolean }> {
  if (typeof spec !== 'string') return { registry: spec, owned: false };
  if (spec === 'embedded' || spec.startsWith('embedded:')) {
    const dir = spec.startsWith('embedded://') ? decodeURIComponent(new URL(spec).pathname) : '';
    return { registry: createEmbeddedRegistry(dir === '' || dir === '/' ? { logger } : { dir, logger }), owned: true };
  }
  if (spec.startsWith('zookeeper://')) {
    const url = new URL(spec.replace(/^zookeeper:\/\/([^/?]*)/, 'zookeeper://placeholder'));
    const connectString = /^zookeeper:\/\/([^/?]*)/.exec(spec)![1]!;
    const root = url.pathname.length > 1 ? url.pathname : undefined;
    const number = (key: string) => (url.searchParams.has(key) ? Number(url.searchParams.get(key)) : undefined);
    const cacheFile = url.searchParams.get('cacheFile') ?? undefined;
    // Loaded only when asked for: the ZooKeeper client is an optional dependency.
    const { createZooKeeperRegistry } = await import('./zookeeper.js');
    const registry = await createZooKeeperRegistry(connectString, {
      root,
      sessionTimeoutMs: number('sessionTimeoutMs'),
      connectTimeoutMs: number('connectTimeoutMs'),
      cacheFile: cacheFile === 'false' ? false : cacheFile,
      cacheAfterMs: number('cacheAfterMs'),
      logger,
    });
    return { registry, owned: true };
  }
  throw new RpcError(Code.INVALID_ARGUMENT, `unknown registry ${JSON.stringify(spec)}; use 'embedded' or 'zookeeper://host:port'`);
}
