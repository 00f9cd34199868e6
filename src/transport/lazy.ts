import { beforeSending } from '../core/call-watch.js';
import type { Invocation } from '../core/invocation.js';
import type { Channel, ChannelState, ServerTransport } from './transport.js';

/**
 * A server transport whose module is loaded when it starts listening: a protocol nobody listens on
 * costs nothing to load (node:http2, for one, slows every socket of a process once loaded).
 */
export class LazyServerTransport implements ServerTransport {
  private inner: ServerTransport | undefined;

  constructor(private readonly load: () => Promise<ServerTransport>) {}

  async listen(): Promise<string> {
    this.inner ??= await this.load();
    return this.inner.listen();
  }

  drain(): Promise<void> {
    return this.inner?.drain() ?? Promise.resolve();
  }

  forceClose(): void {
    this.inner?.forceClose();
  }
}

/** A channel whose protocol module is loaded by its first call. */
export class LazyChannel implements Channel {
  private inner: Channel | undefined;
  private loading: Promise<Channel> | undefined;
  private closed = false;

  constructor(
    readonly address: string,
    private readonly load: () => Promise<Channel>,
  ) {}

  get state(): ChannelState {
    return this.inner?.state ?? (this.closed ? 'SHUTDOWN' : 'IDLE');
  }

  get draining(): boolean {
    return this.inner?.draining ?? false;
  }

  call(invocation: Invocation, serviceId: string): Promise<unknown> {
    if (this.inner !== undefined) return this.inner.call(invocation, serviceId);
    this.loading ??= this.load().then((channel) => (this.inner = channel));
    return beforeSending(this.loading, invocation).then((channel) => channel.call(invocation, serviceId));
  }

  async close(timeoutMs?: number): Promise<void> {
    this.closed = true;
    const channel = this.inner ?? (await this.loading?.catch(() => undefined));
    await channel?.close(timeoutMs);
  }
}
