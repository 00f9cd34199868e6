/** Items a server may send before the caller grants more, when the request names no credit. */
export const DEFAULT_STREAM_CREDIT = 16;

/**
 * The credit of one stream's sender, granted by its reader: the sender pulls the next item from
 * its producer (a server's implementation, a caller's request stream) only while some is left, so
 * a slow reader holds the producer back instead of filling anyone's memory.
 */
export class StreamCredit {
  private credit: number;
  private wake: (() => void) | undefined;

  constructor(credit: number) {
    this.credit = credit;
  }

  /** Whether an item may be sent now. */
  get available(): boolean {
    return this.credit > 0;
  }

  /** One item was sent. */
  spend(): void {
    this.credit--;
  }

  /** A promise when the credit is spent, settled by a grant or a stop; undefined while some is left. */
  ready(): Promise<void> | undefined {
    if (this.credit > 0) return undefined;
    return new Promise<void>((resolve) => (this.wake = resolve));
  }

  /** More items may be sent. */
  grant(count: number): void {
    this.credit += count;
    if (this.credit > 0) this.wakeUp();
  }

  /** The call ended or the connection went: whoever waits for credit goes on, to find the call closed. */
  stop(): void {
    this.wakeUp();
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
