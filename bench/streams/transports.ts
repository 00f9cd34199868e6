/** The transports `npm run bench:stream-memory` can run, by the name `--transport` takes. */
import { loadStreamSystem, type StreamSystem } from './systems.js';

export const memoryTransports: Record<string, () => Promise<StreamSystem>> = {
  tcp: () => loadStreamSystem('switchyard'),
  grpc: () => loadStreamSystem('switchyard-grpc'),
  http: async () => (await import('./switchyard.js')).switchyardStreamsOver('http://127.0.0.1:0'),
  amqp: async () => (await import('./amqp.js')).amqpStreams,
  // The same stream through grpc-js, for reference.
  'grpc-js': () => loadStreamSystem('grpc-js'),
};

export const memoryTransportNames = Object.keys(memoryTransports);

export async function loadMemoryTransport(name: string): Promise<StreamSystem> {
  const load = memoryTransports[name];
  if (load === undefined) throw new Error(`unknown transport ${JSON.stringify(name)}; known: ${memoryTransportNames.join(', ')}`);
  return load();
}
