import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';

/** A parsed provider or listen address such as `tcp://127.0.0.1:20880`. */
export interface Address {
  protocol: string;
  host: string;
  port: number;
}

// Ports implied by a scheme when an address leaves them out.
const defaultPorts = new Map([['amqp', 5672], ['amqps', 5671], ['http', 80], ['https', 443]]);

export function parseAddress(url: string): Address {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RpcError(Code.INVALID_ARGUMENT, `invalid address ${JSON.stringify(url)}`);
  }
  const scheme = parsed.protocol.slice(0, -1);
  const port = parsed.port === '' ? (defaultPorts.get(scheme) ?? NaN) : Number(parsed.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RpcError(Code.INVALID_ARGUMENT, `address ${JSON.stringify(url)} needs a port`);
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  return { protocol: scheme, host, port };
}
