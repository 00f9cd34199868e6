/**
 * The `fetch` of Node's `https://` channels: undici's, over an Agent of the channel's own that
 * trusts the client's CAs and presents its certificate. Node only: the browser build never loads
 * this file (registry.ts imports it on the first call to an `https://` address), and browsers do
 * TLS themselves.
 */
import { Agent, fetch as undiciFetch } from 'undici';
import { parseAddress } from '../address.js';
import { clientSecureOptions, type ClientTlsOptions } from '../tls/options.js';
import type { HttpChannelOptions } from './client.js';

export interface SecureFetchOptions {
  tls?: ClientTlsOptions;
  /** Bounds opening a connection, its handshake included. */
  connectTimeoutMs: number;
}

/**
 * A `fetch` for `url`'s server and the function that closes its connections. Certificates are read
 * here, once per channel; a client that must pick up renewed ones is made again.
 */
export function secureFetch(url: string, options: SecureFetchOptions): Required<Pick<HttpChannelOptions, 'fetch' | 'closeFetch'>> {
  const { host } = parseAddress(url);
  const agent = new Agent({ connect: { ...clientSecureOptions(options.tls ?? {}, host), timeout: options.connectTimeoutMs } });
  const send = (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) =>
    undiciFetch(input as Parameters<typeof undiciFetch>[0], { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher: agent }) as unknown as Promise<Response>;
  return { fetch: send, closeFetch: () => agent.close() };
}
