/**
 * Holds a consumer to a byte rate: after each item it sleeps whenever it is ahead of the rate by
 * more than a few milliseconds, so the consumer is slower than the transport and its producer.
 */
const SLACK_MS = 4;

export class Pacer {
  private readonly startedAt = performance.now();
  private bytes = 0;

  /** `bytesPerSecond` of 0 never waits. */
  constructor(private readonly bytesPerSecond: number) {}

  /** Counts `bytes` taken; resolves once the consumer is back on its rate (undefined when it already is). */
  took(bytes: number): Promise<void> | undefined {
    if (this.bytesPerSecond === 0) return undefined;
    this.bytes += bytes;
    const aheadMs = (this.bytes / this.bytesPerSecond) * 1000 - (performance.now() - this.startedAt);
    if (aheadMs <= SLACK_MS) return undefined;
    return new Promise((resolve) => setTimeout(resolve, aheadMs));
  }
}
