import type { ChannelOptions } from '../transport/registry.js';
import { createChannel } from '../transport/registry.js';
import type { Channel } from '../transport/transport.js';

/**
 * One channel per provider address for a whole client, shared by every service reached there. A
 * client writes requests in one serializer (`options.serializer`), so each channel is made with it
 * and a call carries no serializer of its own.
 */
export class ChannelPool {
  private readonly channels = new Map<string, { channel: Channel; users: number }>();

  constructor(private readonly options: ChannelOptions) {}

  /** Whether the client was given a `tls` option, and so prefers providers' TLS addresses. */
  get tlsConfigured(): boolean {
    return this.options.tls !== undefined;
  }

  acquire(address: string): Channel {
    let entry = this.channels.get(address);
    if (entry === undefined) {
      entry = { channel: createChannel(address, this.options), users: 0 };
      this.channels.set(address, entry);
    }
    entry.users++;
    return entry.channel;
  }

  /** Drops one use; the last one closes the channel once its calls in flight are done. */
  release(address: string, timeoutMs: number): void {
    const entry = this.channels.get(address);
    if (entry === undefined || --entry.users > 0) return;
    this.channels.delete(address);
    void entry.channel.close(timeoutMs);
  }

  /** The open channels, by address. */
  open(): Channel[] {
    return [...this.channels.values()].map(({ channel }) => channel);
  }

  async close(timeoutMs: number): Promise<void> {
    const all = [...this.channels.values()];
    this.channels.clear();
    await Promise.all(all.map(({ channel }) => channel.close(timeoutMs)));
  }
}
