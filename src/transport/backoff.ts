/** Exponential backoff with jitter between connection attempts, as gRPC's connection backoff. */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  multiplier: number;
  /** Spread of each delay, as a fraction of it: 0.2 means ±20 %. */
  jitter: number;
}

export const defaultBackoff: BackoffOptions = { initialMs: 200, maxMs: 30_000, multiplier: 1.6, jitter: 0.2 };

export class Backoff {
  private nextMs: number;

  constructor(private readonly options: BackoffOptions) {
    this.nextMs = options.initialMs;
  }

  /** The delay before the next attempt; each call lengthens the one after. */
  next(): number {
    const base = this.nextMs;
    this.nextMs = Math.min(this.options.maxMs, base * this.options.multiplier);
    return Math.round(base * (1 + this.options.jitter * (Math.random() * 2 - 1)));
  }

  reset(): void {
    this.nextMs = this.options.initialMs;
  }
}
