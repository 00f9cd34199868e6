import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import type { Registry } from './registry.js';
import type { RegistryContext } from './index.js';

/**
 * Opens the ZooKeeper registry of an address
 * `zookeeper://host:port[,host:port][/root][?sessionTimeoutMs=&connectTimeoutMs=&cacheFile=&cacheAfterMs=]`.
 */
export async function openZooKeeperAddress(address: string, context: RegistryContext): Promise<Registry> {
  // A connect string of several hosts is no URL host: parse the rest with a stand-in host.
  const connectString = /^zookeeper:\/\/([^/?]*)/i.exec(address)?.[1];
  if (connectString === undefined) {
    throw new RpcError(Code.INVALID_ARGUMENT, `invalid ZooKeeper registry address ${JSON.stringify(address)}; use zookeeper://host:port`);
  }
  const url = new URL(address.replace(/^zookeeper:\/\/[^/?]*/i, 'zookeeper://placeholder'));
  const root = url.pathname.length > 1 ? url.pathname : undefined;
  const number = (key: string) => (url.searchParams.has(key) ? Number(url.searchParams.get(key)) : undefined);
  const cacheFile = url.searchParams.get('cacheFile') ?? undefined;
  // Loaded only when asked for: the ZooKeeper client is an optional dependency.
  const { createZooKeeperRegistry } = await import('./zookeeper.js');
  return createZooKeeperRegistry(connectString, {
    root,
    sessionTimeoutMs: number('sessionTimeoutMs'),
    connectTimeoutMs: number('connectTimeoutMs'),
    cacheFile: cacheFile === 'false' ? false : cacheFile,
    cacheAfterMs: number('cacheAfterMs'),
    logger: context.logger,
  });
}
