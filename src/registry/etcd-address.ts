import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import type { EtcdCredentials } from './etcd-client.js';
import type { EtcdRegistryOptions } from './etcd.js';
import type { RegistryContext } from './index.js';
import type { Registry } from './registry.js';
import { maskRegistryAddress } from './zookeeper-address.js';

const knownOptions = new Set(['leaseTtlS', 'dialTimeoutMs', 'cacheFile', 'cacheAfterMs', 'registerConsumers', 'rulesPath']);

/**
 * Opens the etcd registry of an address
 * `etcd://[user:password@]host:port[,host:port…][/prefix][?leaseTtlS=&dialTimeoutMs=&cacheFile=&cacheAfterMs=&registerConsumers=false&rulesPath=]`
 * (port 2379 when left out). With `user:password` (percent-encoded where they hold `@`, `/`, `?`,
 * `%`), the registry authenticates as that etcd user. An unknown option is refused.
 */
export async function openEtcdAddress(address: string, context: RegistryContext): Promise<Registry> {
  const { hosts, registry } = parseEtcdAddress(address);
  // Loaded only when asked for: the etcd client is an optional dependency.
  const { createEtcdRegistry } = await import('./etcd.js');
  return createEtcdRegistry(hosts, { ...registry, logger: context.logger });
}

/** The members and registry options an `etcd://` address names; INVALID_ARGUMENT for a malformed one. */
export function parseEtcdAddress(address: string): { hosts: string[]; registry: EtcdRegistryOptions } {
  const masked = () => JSON.stringify(maskRegistryAddress(address));
  // A list of members is no URL host: parse the rest with a stand-in host.
  const authority = /^etcd:\/\/([^/?#]*)/i.exec(address)?.[1];
  if (authority === undefined || authority === '') {
    throw new RpcError(Code.INVALID_ARGUMENT, `invalid etcd registry address ${masked()}; use etcd://host:port[,host:port…]`);
  }
  const at = authority.lastIndexOf('@');
  const credentials = at < 0 ? undefined : parseCredentials(authority.slice(0, at), masked);
  const hosts = authority.slice(at + 1).split(',').map((host) => parseHost(host, masked));
  let url: URL;
  try {
    url = new URL(address.replace(/^etcd:\/\/[^/?#]*/i, 'etcd://placeholder'));
  } catch {
    throw new RpcError(Code.INVALID_ARGUMENT, `invalid etcd registry address ${masked()}`);
  }
  for (const key of url.searchParams.keys()) {
    if (!knownOptions.has(key)) throw new RpcError(Code.INVALID_ARGUMENT, `unknown option ${JSON.stringify(key)} in etcd registry address ${masked()}; known: ${[...knownOptions].join(', ')}`);
  }
  const number = (key: string) => {
    if (!url.searchParams.has(key)) return undefined;
    const value = Number(url.searchParams.get(key));
    if (url.searchParams.get(key) === '' || !Number.isFinite(value)) throw new RpcError(Code.INVALID_ARGUMENT, `${key} in etcd registry address ${masked()} must be a number`);
    return value;
  };
  const cacheFile = url.searchParams.get('cacheFile') ?? undefined;
  const prefix = decodeURIComponent(url.pathname).replace(/\/+$/, '');
  return {
    hosts,
    registry: {
      prefix,
      leaseTtlS: number('leaseTtlS'),
      dialTimeoutMs: number('dialTimeoutMs'),
      cacheFile: cacheFile === 'false' ? false : cacheFile,
      cacheAfterMs: number('cacheAfterMs'),
      // Tools that only look (switchyard ls, watch) are no consumers and announce none.
      registerConsumers: url.searchParams.get('registerConsumers') === 'false' ? false : undefined,
      rulesPath: url.searchParams.get('rulesPath') ?? undefined,
      credentials,
    },
  };
}

/** `host:port`, `host` (port 2379), `[v6]:port` or `[v6]`. */
function parseHost(text: string, masked: () => string): string {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(text);
  const port = Number(match?.[2] ?? 2379);
  if (!match || port < 1 || port > 65_535) {
    throw new RpcError(Code.INVALID_ARGUMENT, `invalid member ${JSON.stringify(text)} in etcd registry address ${masked()}; use host:port`);
  }
  return `${match[1]}:${port}`;
}

function parseCredentials(userInfo: string, masked: () => string): EtcdCredentials {
  const colon = userInfo.indexOf(':');
  const invalid = () => new RpcError(Code.INVALID_ARGUMENT,
    `invalid credentials in etcd registry address ${masked()}; use etcd://user:password@host:port, percent-encoding reserved characters`);
  if (colon <= 0 || colon === userInfo.length - 1) throw invalid();
  try {
    return { username: decodeURIComponent(userInfo.slice(0, colon)), password: decodeURIComponent(userInfo.slice(colon + 1)) };
  } catch {
    throw invalid();
  }
}
