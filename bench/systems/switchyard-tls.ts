/**
 * Switchyard over `tls://`: the `switchyard` system inside TLS (TLS 1.3, a P-256 certificate from a
 * throw-away CA, no client certificate), so that the two side by side in one run give TLS's cost.
 * The server makes the certificates and hands the client its address and the CA to trust.
 */
import { createServer } from '../../src/index.js';
import { certificates } from '../../test/support/certs.js';
import type { System } from './index.js';
import { connectBench, provideBench } from './switchyard.js';

/** What the server hands the client: the address is not enough, the client must trust the CA. */
interface TlsAddress {
  url: string;
  ca: string;
}

export const switchyardTls: System = {
  async serve(handlers) {
    const certs = certificates();
    const server = createServer({ listen: ['tls://127.0.0.1:0'], registry: false, tls: { key: certs.serverKey, cert: certs.serverCert } });
    provideBench(server, handlers);
    const [url] = await server.listen();
    const address: TlsAddress = { url: url!, ca: certs.read(certs.caCert).toString() };
    return { address: JSON.stringify(address), close: () => server.close({ timeoutMs: 1000 }) };
  },

  connect(address) {
    const { url, ca } = JSON.parse(address) as TlsAddress;
    return connectBench(url, { tls: { ca } });
  },
};
