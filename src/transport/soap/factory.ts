import { Code } from '../../core/code.js';
import { RpcError } from '../../core/rpc-error.js';
import type { TransportFactory } from '../registry.js';
import { SoapChannel } from './channel.js';

/**
 * The `soap://` (and `soaps://`, over https) client transport: register it under those schemes to
 * call SOAP services by their WSDL (docs/soap.md). It has no server side: an `http://` listen
 * address serves SOAP for every provided service.
 *
 * ```ts
 * registerTransport('soap', soapTransport);
 * const client = createClient({ url: 'soap://127.0.0.1:8000/calculator' });
 * ```
 */
export const soapTransport: TransportFactory = {
  server: (url) => {
    throw new RpcError(Code.INVALID_ARGUMENT, `${url}: soap:// only calls SOAP services; an http:// listen address serves SOAP (docs/soap.md)`);
  },
  channel: (url, options) => new SoapChannel(url, { maxResponseBytes: options.maxFrameSize }),
  announce: false,
};
