import type { ServerTransportOptions } from '../transport/registry.js';
import { TcpServerTransport } from '../transport/tcp/server.js';
import type { ConnectionInfo, ServerContext } from '../transport/transport.js';
import { tableWithFaults } from './call-faults.js';
import { FaultControl, type InprocFaults } from './faults.js';
import { bind, type InprocListener } from './inproc-network.js';

/**
 * Serves the call table on an `inproc://name:port` address: the TCP server transport, its
 * connection code unchanged, over connections made in this process's memory. Every call is
 * encoded, framed, decoded and answered as over `tcp://`, with its deadline, cancel, metadata,
 * streams and flow control; only the sockets are missing. The listener's call faults sit between
 * the protocol and the handlers.
 */
export class InprocServerTransport extends TcpServerTransport {
  private bound: InprocListener | undefined;

  constructor(
    private readonly inprocHost: string,
    private readonly inprocPort: number,
    context: ServerContext,
    options: ServerTransportOptions,
    readonly faults: FaultControl<InprocFaults> = new FaultControl<InprocFaults>(),
  ) {
    super(inprocHost, inprocPort, { ...context, table: tableWithFaults(context.table, faults) }, options);
  }

  override listen(): Promise<string> {
    try {
      this.bound = bind(this.inprocHost, this.inprocPort, this.faults, (socket) => this.accept(socket.asSocket()));
    } catch (error) {
      return Promise.reject(error);
    }
    this.listener = this.bound.address;
    return Promise.resolve(this.listener);
  }

  override drain(): Promise<void> {
    this.bound?.unbind();
    return super.drain();
  }

  override forceClose(): void {
    this.bound?.unbind();
    super.forceClose();
  }

  override connections(): ConnectionInfo[] {
    return super.connections().map((info) => ({ ...info, protocol: 'inproc' }));
  }
}
