import { beforeSending } from '../core/call-watch.js';
import type { Invocation } from '../core/invocation.js';
import type { Channel, ChannelInfo, ChannelState, ConnectionInfo, ServerTransport } from './transport.js';

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

  connections(): ConnectionInfo[] {
    return this.inner?.connections?.() ?? [];
  }
}

/** A channel whose protocol module is loaded by its first call. */
export class LazyChannel implements Channel {
  private inner: Channel | undefined;
  private loading: Promise<Channel> | undefined;
  private closed = false;
  /** The module could not be loaded: every call fails, and `info()` says so. */
  private failed = false;

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
    this.loading ??= this.load().then((channel) => (this.inner = channel), (error: unknown) => {
      this.failed = true;
      throw error;
    });
    return beforeSending(this.loading, invocation).then((channel) => channel.call(invocation, serviceId));
  }

  /** The loaded channel's; before it exists, an empty one: CONNECTING while its module loads. */
  info(): ChannelInfo {
    const known = this.inner?.info?.();
    if (known !== undefined) return known;
    let state = this.state;
    if (this.inner === undefined && this.loading !== undefined && !this.closed) state = this.failed ? 'TRANSIENT_FAILURE' : 'CONNECTING';
    const protocol = this.address.slice(0, Math.max(0, this.address.indexOf(':')));
    return { address: this.address, protocol, state, draining: this.draining, bytesIn: 0, bytesOut: 0, calls: 0, active: 0 };
  }

  async close(timeoutMs?: number): Promise<void> {
    this.closed = true;
    const channel = this.inner ?? (await this.loading?.catch(() => undefined));
    await channel?.close(timeoutMs);
  }
}
