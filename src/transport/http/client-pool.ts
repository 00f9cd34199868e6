/**
 * Keep-alive connections to one origin, one undici `Client` each, opened as calls need them up to
 * a limit; calls beyond it wait in order for a connection to free up. This is what undici's `Pool`
 * does, written here because of how `Pool` finds a free connection: it walks its clients from the
 * first to the first free one, and after each request walks them all again to learn whether any is
 * still free. With 128 connections busy, that is some 190 steps per call, about 3,600 of the
 * 190,000 instructions a small call costs (`npm run bench:http:instructions`, `client` setup);
 * here the free connections are a stack.
 *
 * A `Client` says it can take no more by returning false from `dispatch`, and that it can again
 * with `drain`, which undici emits after the request finished, failed or could not connect: `Pool`
 * relies on the same two signals. With pipelining, a client that took a request and said it could
 * take more may still become busy (writing a streamed body) and drain later, so each connection
 * knows whether it is on the stack already.
 */
import { Client, errors, type Dispatcher } from 'undici';

export interface ClientPoolOptions {
  /** Most connections open at once. */
  connections: number;
  /** Requests sent on a connection before its first answer; 1 is no pipelining. */
  pipelining: number;
  /** Opens each connection (TCP, or TLS over it). */
  connect: Client.Options['connect'];
}

/** A connection of the pool. */
class Slot {
  /** On the stack of free connections. */
  free = false;
  constructor(readonly client: Client) {}
}

interface Waiting {
  readonly options: Dispatcher.DispatchOptions;
  readonly handler: Dispatcher.DispatchHandler;
}

export class ClientPool {
  private readonly slots: Slot[] = [];
  /** Connections that can take a request now; the last freed is used first, keeping few connections warm. */
  private readonly free: Slot[] = [];
  /** Requests that found every connection busy, oldest first. */
  private readonly waiting: Waiting[] = [];
  private closed: Promise<void> | undefined;
  /** Set by `close()` while requests still wait: called once the last one has a connection. */
  private allSent: (() => void) | undefined;

  constructor(private readonly origin: string, private readonly options: ClientPoolOptions) {}

  /** Sends now on a free connection (or a new one), else when one frees up; throws once closed. */
  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): void {
    if (this.closed !== undefined) throw new errors.ClientClosedError();
    const slot = this.free.pop() ?? this.open();
    if (slot === undefined) {
      this.waiting.push({ options, handler });
      return;
    }
    slot.free = false;
    if (slot.client.dispatch(options, handler)) this.release(slot);
  }

  /** Closes every connection once the requests sent and waiting have been answered. */
  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      if (this.waiting.length === 0) resolve();
      else this.allSent = resolve;
    }).then(() => Promise.all(this.slots.map((slot) => slot.client.close())).then(() => undefined));
    return this.closed;
  }

  private open(): Slot | undefined {
    if (this.slots.length >= this.options.connections) return undefined;
    const { pipelining, connect } = this.options;
    const slot = new Slot(new Client(this.origin, { pipelining, connect }));
    slot.client.on('drain', () => this.drained(slot));
    this.slots.push(slot);
    return slot;
  }

  /** The connection can take requests again: the waiting ones first. */
  private drained(slot: Slot): void {
    const { waiting } = this;
    while (waiting.length > 0) {
      const next = waiting.shift()!;
      if (!slot.client.dispatch(next.options, next.handler)) {
        this.sentAll();
        return;
      }
    }
    this.sentAll();
    this.release(slot);
  }

  private release(slot: Slot): void {
    if (slot.free) return;
    slot.free = true;
    this.free.push(slot);
  }

  private sentAll(): void {
    if (this.waiting.length > 0 || this.allSent === undefined) return;
    this.allSent();
    this.allSent = undefined;
  }
}
