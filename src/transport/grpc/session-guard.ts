import type { ByteBudget } from './message.js';
import type { GrpcServerSettings } from './options.js';

/**
 * What one HTTP/2 connection is allowed to cost the server: calls running at once (a stream reset
 * by the client counts until its handler has returned), bytes held in partly received messages,
 * and streams reset within a time window — rapid reset (CVE-2023-44487) opens and resets streams
 * as fast as it can, so that the stream limit never applies while handlers keep starting.
 */
export class SessionGuard implements ByteBudget {
  /** Calls accepted on this connection whose handlers have not finished. */
  running = 0;
  /** Counts calls started and PINGs received: what keeps a connection from being idle. */
  activity = 0;
  private seenActivity = -1;
  private quietSweeps = 0;
  private buffered = 0;
  private resets = 0;
  private windowStart = 0;

  constructor(private readonly settings: GrpcServerSettings) {}

  /** Whether a new stream may start a call now. */
  get admits(): boolean {
    return this.running < this.settings.maxConcurrentStreams;
  }

  take(bytes: number): boolean {
    if (this.buffered + bytes > this.settings.maxSessionBufferedBytes) return false;
    this.buffered += bytes;
    return true;
  }

  give(bytes: number): void {
    this.buffered -= bytes;
  }

  /** Asked once per sweep: true when the connection has had no call and no PING for `sweeps` sweeps. */
  idle(sweeps: number): boolean {
    if (this.running > 0 || this.activity !== this.seenActivity) {
      this.seenActivity = this.activity;
      this.quietSweeps = 0;
      return false;
    }
    return ++this.quietSweeps >= sweeps;
  }

  /** Records an early reset (see `Exchange.resetEarly`); true when the connection must go. */
  reset(now = Date.now()): boolean {
    if (now - this.windowStart >= this.settings.resetWindowMs) {
      this.windowStart = now;
      this.resets = 0;
    }
    return ++this.resets > this.settings.maxResets;
  }
}
