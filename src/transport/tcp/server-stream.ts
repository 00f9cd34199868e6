/** Items a server may send before the caller grants more, when the request names no credit. */
export const DEFAULT_STREAM_CREDIT = 16;

/**
 * The caller's credit for one server stream: the dispatcher pulls the next item from the
 * implementation only while some is left, so a slow consumer holds the provider back instead of
 * filling its memory.
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

  /** The caller cancelled or the connection went: whoever waits for credit goes on, to find the call closed. */
  stop(): void {
    this.wakeUp();
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
