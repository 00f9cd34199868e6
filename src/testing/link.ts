import type { LinkFaults } from './faults.js';

/** Where a link delivers: the receiving end of a connection. */
export interface LinkSink {
  data(chunk: Buffer): void;
  /** The sender closed its side; everything it sent before has been delivered. */
  end(): void;
  /** Nothing is waiting in the link any more (for a sender that paused its source). */
  idle?(): void;
}

/** One chunk (or the end, `undefined`) and when it may arrive. */
interface InFlight {
  readonly at: number;
  readonly chunk: Buffer | undefined;
}

/** Slices of a bandwidth-limited chunk, so that a large one arrives a piece at a time, as on a wire. */
const MIN_SLICE = 512;
const MAX_SLICE = 64 * 1024;

/**
 * One direction of a connection, shaped by faults read at the moment each chunk is sent: delayed
 * by the latency and a jitter, spaced by the bandwidth, held while blackholed. Bytes always arrive
 * in the order they were sent, whatever the jitter, as TCP delivers them. Changing the faults
 * applies to chunks sent from then on; lifting a blackhole releases what it held (call `wake`).
 */
export class Link {
  #queue: InFlight[] = [];
  #head = 0;
  /** When the last chunk queued arrives: a later one never overtakes it. */
  #lastAt = 0;
  /** When the (bandwidth-limited) wire has finished sending what it was given. */
  #wireFreeAt = 0;
  #timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  #closed = false;
  /** Bytes sent and not yet delivered. */
  queuedBytes = 0;

  constructor(
    private readonly faults: () => Readonly<LinkFaults>,
    private readonly random: () => number,
    private readonly sink: LinkSink,
  ) {}

  send(chunk: Buffer): void {
    if (this.#closed || chunk.length === 0) return;
    const { bytesPerSecond } = this.faults();
    this.queuedBytes += chunk.length;
    if (bytesPerSecond === undefined) {
      this.#enqueue(Date.now(), chunk);
      return;
    }
    const slice = Math.min(MAX_SLICE, Math.max(MIN_SLICE, Math.floor(bytesPerSecond / 50)));
    for (let offset = 0; offset < chunk.length; offset += slice) {
      const piece = chunk.subarray(offset, offset + slice);
      this.#wireFreeAt = Math.max(Date.now(), this.#wireFreeAt) + (piece.length * 1000) / bytesPerSecond;
      this.#enqueue(this.#wireFreeAt, piece);
    }
  }

  /** The sender closed its side: the receiver hears it after the last byte sent. */
  end(): void {
    if (this.#closed) return;
    this.#enqueue(Math.max(Date.now(), this.#wireFreeAt), undefined);
  }

  /** The faults changed: what a blackhole held may move now. */
  wake(): void {
    if (this.#closed) return;
    this.#stopTimer();
    this.#pump();
  }

  /** The connection was torn down: nothing more is delivered. */
  close(): void {
    this.#closed = true;
    this.#stopTimer();
    this.#queue = [];
    this.#head = 0;
    this.queuedBytes = 0;
  }

  #enqueue(sentAt: number, chunk: Buffer | undefined): void {
    const { latencyMs = 0, jitterMs = 0 } = this.faults();
    const jitter = jitterMs > 0 ? jitterMs * this.random() : 0;
    const at = Math.max(sentAt + latencyMs + jitter, this.#lastAt);
    this.#lastAt = at;
    this.#queue.push({ at, chunk });
    if (this.#timer === undefined) this.#arm();
  }

  /**
   * Delivers what is due. Never synchronously from `send`: a real socket delivers in a later turn
   * of the event loop, and the protocol code on either side does not expect to be re-entered.
   */
  readonly #pump = (): void => {
    this.#timer = undefined;
    if (this.#closed || this.faults().blackhole === true) return;
    const now = Date.now();
    while (this.#head < this.#queue.length && this.#queue[this.#head]!.at <= now) {
      const { chunk } = this.#queue[this.#head]!;
      this.#queue[this.#head++] = undefined as unknown as InFlight;
      if (chunk === undefined) {
        this.sink.end();
      } else {
        this.queuedBytes -= chunk.length;
        this.sink.data(chunk);
      }
      if (this.#closed) return; // the sink tore the connection down
    }
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
      this.sink.idle?.();
      return;
    }
    // A link that never empties drops what it delivered now and then, not only when it empties.
    if (this.#head >= 1024 && 2 * this.#head >= this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    this.#arm();
  };

  #arm(): void {
    if (this.#closed || this.faults().blackhole === true) return;
    const next = this.#queue[this.#head];
    if (next === undefined) return;
    const wait = next.at - Date.now();
    this.#timer = wait <= 0 ? setImmediate(this.#pump) : setTimeout(this.#pump, Math.ceil(wait));
  }

  #stopTimer(): void {
    const timer = this.#timer;
    this.#timer = undefined;
    if (timer === undefined) return;
    // Only a Timeout can be refreshed; clearImmediate must never be handed one.
    if ('refresh' in timer) clearTimeout(timer);
    else clearImmediate(timer);
  }
}
