/**
 * What the suite's handlers tell the suite, through events rather than timing: a handler that
 * started, saw its signal fire, was told to finish, or a stream that ended. The servers run in the
 * suite's own process, so an event is a promise settled in memory.
 */
export class Probe {
  private readonly events = new Map<string, Deferred>();
  /** What each `receive` call got, by the tag it was sent with. */
  readonly received = new Map<string, unknown>();
  /** Streams by tag: how many items the generator made, and how it ended. */
  readonly streams = new Map<string, StreamState>();
  /** Calls of the method guarded by `validate` that reached their handler. */
  validatedRuns = 0;

  /** Records that `event` happened, with an optional value; waiters before and after see it. */
  emit(event: string, value?: unknown): void {
    this.deferred(event).resolve(value);
  }

  /**
   * Resolves with the value of `event` once it happened (or at once if it did); rejects after
   * `timeoutMs` with a message naming the event, so that a row fails rather than hangs.
   */
  next(event: string, timeoutMs = 15_000): Promise<unknown> {
    const { promise } = this.deferred(event);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the handler did not report "${event}" within ${timeoutMs} ms`)), timeoutMs);
      timer.unref();
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  /** Whether `event` has happened. */
  happened(event: string): boolean {
    return this.events.get(event)?.done === true;
  }

  stream(tag: string): StreamState {
    let state = this.streams.get(tag);
    if (state === undefined) {
      state = { produced: 0, completed: false, aborted: false };
      this.streams.set(tag, state);
    }
    return state;
  }

  private deferred(event: string): Deferred {
    let entry = this.events.get(event);
    if (entry === undefined) {
      let resolve!: (value: unknown) => void;
      const promise = new Promise<unknown>((settle) => {
        resolve = settle;
      });
      const made: Deferred = {
        promise,
        done: false,
        resolve: (value) => {
          made.done = true;
          resolve(value);
        },
      };
      entry = made;
      this.events.set(event, entry);
    }
    return entry;
  }
}

export interface StreamState {
  produced: number;
  /** The generator ran to its end. */
  completed: boolean;
  /** The handler's signal had fired when the generator stopped. */
  aborted: boolean;
}

interface Deferred {
  promise: Promise<unknown>;
  done: boolean;
  resolve(value: unknown): void;
}

let counter = 0;

/** A tag no other call of this process uses, so that rows never read each other's events. */
export function uniqueTag(prefix: string): string {
  counter += 1;
  return `${prefix}-${counter}`;
}
