/**
 * Switchyard over `tcp://` with metrics on at both ends (`metrics: true`: the process-wide
 * registry, as an admin listener would serve it), so that beside `switchyard` in one run it gives
 * what recording a call's metrics costs.
 */
import { createServer } from '../../src/index.js';
import type { System } from './index.js';
import { connectBench, provideBench } from './switchyard.js';

export const switchyardMetrics: System = {
  async serve(handlers) {
    const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: false, metrics: true });
    provideBench(server, handlers);
    const [address] = await server.listen();
    return { address: address!, close: () => server.close({ timeoutMs: 1000 }) };
  },
  connect: (address) => connectBench(address, { metrics: true }),
};
