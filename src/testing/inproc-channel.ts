import type { Socket } from 'node:net';
import type { ChannelOptions } from '../transport/registry.js';
import { TcpChannel } from '../transport/tcp/client.js';
import type { ChannelInfo } from '../transport/transport.js';
import { dial } from './inproc-network.js';

/**
 * The client side of one `inproc://name:port` address: the TCP channel (one shared connection,
 * reconnects with backoff, GOAWAY, request ids, deadlines and cancels through core/call-watch.ts)
 * whose connections are opened in memory instead of on a socket.
 */
export class InprocChannel extends TcpChannel {
  constructor(
    address: string,
    private readonly inprocHost: string,
    private readonly inprocPort: number,
    options: ChannelOptions,
  ) {
    super(address, inprocHost, inprocPort, options);
  }

  protected override open(): Socket {
    return dial(this.inprocHost, this.inprocPort).asSocket();
  }

  override info(): ChannelInfo {
    return { ...super.info(), protocol: 'inproc' };
  }
}
