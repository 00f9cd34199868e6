import { Metadata } from '../../src/core/metadata.js';
import { parseProviderUrl, type Provider } from '../../src/registry/provider.js';
import type { RoutingCall } from '../../src/rules/routing-call.js';

/** A provider entry as a registry would hold it: `provider('10.0.0.1:20880', { region: 'Hangzhou' })`. */
export function provider(address: string, params: Record<string, string> = {}, service = 'demo.Store'): Provider {
  const query = new URLSearchParams({ methods: 'get,put', ...params });
  return parseProviderUrl(`tcp://${address}/${service}?${query.toString()}`);
}

/** `host:port` of each provider, in order: what a test compares. */
export function addresses(providers: readonly Provider[]): string[] {
  return providers.map((entry) => `${entry.host}:${entry.port}`);
}

/** A call of `method` from a consumer on 10.0.0.100 in application `shop`, with metadata when given. */
export function call(method: string, options: Omit<Partial<RoutingCall>, 'metadata'> & { metadata?: Record<string, string> } = {}): RoutingCall {
  const { metadata, ...rest } = options;
  return { method, args: [], consumerHost: '10.0.0.100', consumerApplication: 'shop', ...rest, ...(metadata === undefined ? {} : { metadata: new Metadata(metadata) }) };
}
