import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';

/** A parsed provider or listen address such as `tcp://127.0.0.1:20880`. */
export interface Address {
  protocol: string;
  host: string;
  port: number;
}

export function parseAddress(url: string): Address {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RpcError(Code.INVALID_ARGUMENT, `invalid address ${JSON.stringify(url)}`);
  }
  const port = Number(parsed.port);
  if (parsed.port === '' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RpcError(Code.INVALID_ARGUMENT, `address ${JSON.stringify(url)} needs a port`);
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  return { protocol: parsed.protocol.slice(0, -1), host, port };
}
