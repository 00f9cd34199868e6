/**
 * switchyard/testing: an in-process transport (`inproc://name:port`), an in-memory registry
 * (`memory://namespace`), helpers that start servers and clients and stop them, and faults to
 * inject, in memory or through a real TCP proxy. Importing it registers both schemes. See
 * docs/testing.md.
 */
import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import { registerRegistry } from '../registry/index.js';
import { parseAddress } from '../transport/address.js';
import { hasTransport, registerTransport, type TransportFactory } from '../transport/registry.js';
import { InprocChannel } from './inproc-channel.js';
import { InprocServerTransport } from './inproc-server.js';
import { openMemoryRegistry } from './memory-registry.js';

export { startServer, startClient, withServer, service, type TestServer, type TestServerOptions, type TestClient, type ClientTarget, type ProvidedService } from './harness.js';
export { FaultControl, type LinkFaults, type InprocFaults, type ErrorFault } from './faults.js';
export { faultProxy, type FaultProxy, type FaultProxyOptions } from './fault-proxy.js';
export { MemoryRegistry } from './memory-registry.js';
export { inprocFaults } from './inproc-network.js';

/** `inproc://name:port`: the TCP protocol over connections in this process's memory. */
const inprocTransport: TransportFactory = {
  server: (url, context, options) => {
    const { host, port } = parseAddress(url);
    return new InprocServerTransport(host, port, context, options);
  },
  channel: (url, options) => {
    const { host, port } = parseAddress(url);
    return new InprocChannel(url, host, port, options);
  },
};

// Registered once per process, however often this module is loaded; a scheme the application has
// taken for its own transport or registry is left to it.
if (!hasTransport('inproc')) registerTransport('inproc', inprocTransport);
try {
  registerRegistry('memory', openMemoryRegistry);
} catch (error) {
  if (!(error instanceof RpcError && error.code === Code.INVALID_ARGUMENT)) throw error;
}
