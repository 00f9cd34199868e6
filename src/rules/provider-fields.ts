import type { Provider } from '../registry/provider.js';

/**
 * The values a rule can read off a provider, by the names Dubbo gives the fields of a provider URL:
 * `host`, `port`, `address` (`host:port`), `protocol`, `interface` (also `path`), `version`, `group`,
 * `application`, `methods`, `weight`, `timestamp`, `warmup`, `serialization`, and every further
 * parameter of the entry (`dubbo.tag`, `region`, ...). Undefined when the provider has no such value.
 */
export function providerField(provider: Pick<Provider, 'host' | 'port' | 'service' | 'params'> & Partial<Provider>, key: string): string | undefined {
  switch (key) {
    case 'host':
      return provider.host;
    case 'port':
      return String(provider.port);
    case 'address':
      return hostPort(provider.host, provider.port);
    case 'interface':
    case 'path':
      return provider.service.name;
    case 'version':
      return provider.service.version;
    case 'group':
      return provider.service.group;
    case 'protocol':
      return provider.protocol;
    case 'methods':
      return provider.methods?.join(',');
    case 'weight':
    case 'timestamp':
      return provider[key] === undefined ? ownParam(provider.params, key) : String(provider[key]);
    case 'warmup':
      return provider.warmupMs === undefined ? ownParam(provider.params, key) : String(provider.warmupMs);
    case 'serialization':
      return provider.serialization ?? ownParam(provider.params, key);
    default:
      return ownParam(provider.params, key);
  }
}

/** A parameter the record itself holds: never something inherited, such as `constructor`. */
export function ownParam(params: Readonly<Record<string, string>> | undefined, key: string): string | undefined {
  if (params === undefined || !Object.prototype.hasOwnProperty.call(params, key)) return undefined;
  const value: unknown = params[key];
  return typeof value === 'string' ? value : undefined;
}

/** `10.0.0.1:20880`, `[::1]:20880`: Dubbo's form of an address, without the protocol. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Dubbo's service key: `[group/]name[:version]`. */
export function serviceKeyText(service: Provider['service']): string {
  return `${service.group ? `${service.group}/` : ''}${service.name}${service.version ? `:${service.version}` : ''}`;
}
