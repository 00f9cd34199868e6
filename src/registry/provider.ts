import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import { serviceId, type ServiceKey } from '../core/service.js';

/**
 * One exported service at one address, as registries store it. It is written as a URL in Dubbo's
 * form, so people and tools can read registry entries:
 * `tcp://127.0.0.1:20880/demo.Calculator?version=1.0.0&group=blue&methods=add,divide&weight=100&timestamp=1700000000000&serialization=msgpack`
 */
export interface Provider {
  /** Transport scheme, e.g. `tcp`. */
  readonly protocol: string;
  readonly host: string;
  readonly port: number;
  /** `protocol://host:port`: what a client connects to. */
  readonly address: string;
  readonly service: ServiceKey;
  readonly methods: readonly string[];
  /** Relative share of traffic; 0 takes none. Default 100. */
  readonly weight: number;
  /** When the provider started (epoch ms), for warm-up. */
  readonly timestamp: number;
  /** How long after `timestamp` the provider ramps up to its full weight. Default 0 (no warm-up). */
  readonly warmupMs: number;
  readonly serialization: string;
  /** Further parameters of the URL, kept as they are. */
  readonly params: Readonly<Record<string, string>>;
}

const known = new Set(['version', 'group', 'methods', 'weight', 'timestamp', 'warmup', 'serialization']);

/** The provider's URL (the registry's record of it). */
export function providerUrl(provider: Provider): string {
  const query = new URLSearchParams();
  if (provider.service.version) query.set('version', provider.service.version);
  if (provider.service.group) query.set('group', provider.service.group);
  query.set('methods', provider.methods.join(','));
  query.set('weight', String(provider.weight));
  query.set('timestamp', String(provider.timestamp));
  if (provider.warmupMs > 0) query.set('warmup', String(provider.warmupMs));
  query.set('serialization', provider.serialization);
  for (const [key, value] of Object.entries(provider.params)) if (!known.has(key)) query.set(key, value);
  return `${provider.address}/${provider.service.name}?${query.toString()}`;
}

/** Reads a provider URL; throws INVALID_ARGUMENT for anything that is not one. */
export function parseProviderUrl(url: string): Provider {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RpcError(Code.INVALID_ARGUMENT, `not a provider URL: ${JSON.stringify(url)}`);
  }
  const protocol = parsed.protocol.slice(0, -1);
  const port = Number(parsed.port);
  const name = decodeURIComponent(parsed.pathname.slice(1));
  if (parsed.port === '' || !Number.isInteger(port) || name === '') {
    throw new RpcError(Code.INVALID_ARGUMENT, `not a provider URL: ${JSON.stringify(url)}`);
  }
  const q = parsed.searchParams;
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  const params: Record<string, string> = {};
  for (const [key, value] of q) if (!known.has(key)) Object.defineProperty(params, key, { value, enumerable: true });
  const number = (key: string, fallback: number) => {
    const value = Number(q.get(key) ?? fallback);
    return Number.isFinite(value) && value >= 0 ? value : fallback;
  };
  return {
    protocol,
    host,
    port,
    address: `${protocol}://${parsed.host}`,
    service: { name, version: q.get('version') || undefined, group: q.get('group') || undefined },
    methods: (q.get('methods') ?? '').split(',').filter((m) => m !== ''),
    weight: number('weight', 100),
    timestamp: number('timestamp', 0),
    warmupMs: number('warmup', 0),
    serialization: q.get('serialization') ?? 'msgpack',
    params,
  };
}

/** Identifies a provider entry: the same service at the same address is the same entry. */
export function providerId(provider: Provider): string {
  return `${provider.address}/${serviceId(provider.service)}`;
}

/**
 * The URL parameter naming the server an entry belongs to. A server listening on several protocols
 * registers one entry per address, as Dubbo does, and gives them all the same random `instance`,
 * so that a consumer can tell they are one provider reached in several ways.
 */
export const INSTANCE_PARAM = 'instance';

/**
 * Identifies a logical provider: one service key served by one server, whatever its addresses.
 * Entries that name no instance (older servers, Dubbo peers, fixed addresses) each stand alone.
 * The host is left out on purpose: a server may announce different hosts for different listeners.
 */
export function logicalProviderId(provider: Provider): string {
  const instance = provider.params[INSTANCE_PARAM];
  return instance === undefined || instance === '' ? providerId(provider) : `${INSTANCE_PARAM}:${instance}/${serviceId(provider.service)}`;
}

/**
 * The URL parameter announcing the server's admin listener (`http://host:port`), from which tools
 * such as `switchyard console` read its metrics and status. Announced only by servers with `admin`.
 */
export const ADMIN_PARAM = 'admin';

/**
 * The URL parameter of Dubbo's provider token: a secret consumers must present on every call to
 * the provider (see src/security/provider-token.ts).
 */
export const TOKEN_PARAM = 'token';

/** The provider's URL with its token masked, for logs: a log is read more widely than the registry. */
export function loggedProviderUrl(provider: Provider): string {
  if (provider.params[TOKEN_PARAM] === undefined) return providerUrl(provider);
  return providerUrl({ ...provider, params: { ...provider.params, [TOKEN_PARAM]: '***' } });
}
