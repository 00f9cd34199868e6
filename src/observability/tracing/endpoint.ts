import { parseAddress } from '../../transport/address.js';

/** Where an attempt went, as `server.address` and `server.port` name it. */
export interface Endpoint {
  readonly host: string;
  readonly port: number | undefined;
}

// A client reaches few addresses, each many times: parse each once. Bounded, in case of churn.
const MAX_CACHED = 1024;
const parsed = new Map<string, Endpoint>();

/**
 * The host and port of a provider address; never credentials or a path (an AMQP broker's URL
 * holds both). An address that does not parse is its own host, less any `user:password@`.
 *
 * ```ts
 * endpointOf('tcp://10.0.0.7:20880'); // { host: '10.0.0.7', port: 20880 }
 * ```
 */
export function endpointOf(address: string): Endpoint {
  let endpoint = parsed.get(address);
  if (endpoint !== undefined) return endpoint;
  try {
    const { host, port } = parseAddress(address);
    endpoint = { host, port };
  } catch {
    endpoint = { host: address.replace(/\/\/[^/@]*@/, '//'), port: undefined };
  }
  if (parsed.size >= MAX_CACHED) parsed.clear();
  parsed.set(address, endpoint);
  return endpoint;
}
