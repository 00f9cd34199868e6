import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import type { Registry } from './registry.js';
import type { RegistryContext } from './index.js';
import type { ZooKeeperCredentials } from './zookeeper-acl.js';

/**
 * Opens the ZooKeeper registry of an address
 * `zookeeper://[user:password@]host:port[,host:port][/root][?sessionTimeoutMs=&connectTimeoutMs=&cacheFile=&cacheAfterMs=&registerConsumers=false&rulesPath=]`.
 * With `user:password` (percent-encoded where they hold `@`, `/`, `?`, `%`), the registry
 * authenticates with that digest credential and protects what it writes with it.
 */
export async function openZooKeeperAddress(address: string, context: RegistryContext): Promise<Registry> {
  // A connect string of several hosts is no URL host: parse the rest with a stand-in host.
  const authority = /^zookeeper:\/\/([^/?]*)/i.exec(address)?.[1];
  if (authority === undefined) {
    throw new RpcError(Code.INVALID_ARGUMENT, `invalid ZooKeeper registry address ${JSON.stringify(maskRegistryAddress(address))}; use zookeeper://host:port`);
  }
  const { connectString, credentials } = splitAuthority(authority, address);
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
    // Tools that only look (switchyard ls, watch) are no consumers and announce none.
    registerConsumers: url.searchParams.get('registerConsumers') === 'false' ? false : undefined,
    rulesPath: url.searchParams.get('rulesPath') ?? undefined,
    credentials,
    logger: context.logger,
  });
}

/**
 * A registry address with the password of its credentials masked (`zookeeper://user:***@host:2181`),
 * for logs and error messages. Addresses of any scheme are masked alike.
 */
export function maskRegistryAddress(address: string): string {
  return address.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?@:]*:)[^/?]*@/, (_, head: string) => `${head}***@`);
}

/** `user:password@host:port,...` into the connect string and the credentials, if any. */
function splitAuthority(authority: string, address: string): { connectString: string; credentials?: ZooKeeperCredentials } {
  const at = authority.lastIndexOf('@');
  if (at < 0) return { connectString: authority };
  const userInfo = authority.slice(0, at);
  const colon = userInfo.indexOf(':');
  const invalid = () => new RpcError(Code.INVALID_ARGUMENT,
    `invalid credentials in ZooKeeper registry address ${JSON.stringify(maskRegistryAddress(address))}; use zookeeper://user:password@host:port, percent-encoding reserved characters`);
  if (colon <= 0 || colon === userInfo.length - 1) throw invalid();
  try {
    const credentials = { username: decodeURIComponent(userInfo.slice(0, colon)), password: decodeURIComponent(userInfo.slice(colon + 1)) };
    return { connectString: authority.slice(at + 1), credentials };
  } catch {
    throw invalid();
  }
}
