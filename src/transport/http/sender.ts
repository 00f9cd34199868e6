/**
 * What the HTTP channel needs of an HTTP client: send one POST, get its status, headers and body.
 * Node's channels send with undici (undici-sender.ts); the browser build, and anything given a
 * `fetch`, sends with `fetch` (`fetchSender` below). This file imports nothing of Node.
 */
import type { Metadata } from '../../core/metadata.js';
import { readField } from '../../core/plain-data.js';
import { readMetadata } from './headers.js';
import { collectBody } from './request-body.js';
import { readLimited } from './response-body.js';

/** Reads a body chunk by chunk: what a `ReadableStream` reader and an async iterator both give. */
export interface ChunkReader {
  read(): Promise<IteratorResult<Uint8Array, unknown>>;
  /** Stops reading and drops the rest; never rejects. */
  cancel(): Promise<unknown>;
}

/** One response, its body not read yet. */
export interface SentResponse {
  readonly status: number;
  readonly statusText: string;
  /** A response header by its lower-case name. */
  header(name: string): string | undefined;
  /** The metadata the response headers carry, if any. */
  metadata(): Metadata | undefined;
  /** The whole body; `RESOURCE_EXHAUSTED` past `limit` bytes, holding no more than that. */
  bytes(limit: number): Promise<Uint8Array>;
  /**
   * `bytes(limit)` without waiting, where the sender can tell: the whole body if it has all come
   * in, undefined if it has not; throws what `bytes` would reject with.
   */
  bytesNow?(limit: number): Uint8Array | undefined;
  /** The body as it arrives (a stream's lines). */
  reader(): ChunkReader;
  /** Drops a body that will not be read, so its connection can serve other calls. */
  discard(): void;
}

/** What a sender stops a request in flight with. */
export interface Abortable {
  abort(reason: unknown): void;
}

/**
 * The channel's hold on one request, by which it gives the request up (the call's deadline, its
 * caller's signal, `close()`). Not an AbortSignal: in Node, making an AbortController per call and
 * listening to it cost about as much as the rest of the request.
 */
export interface RequestControl {
  /** Why the request was given up; undefined while it was not. */
  readonly abortReason: unknown;
  /** Set by the sender while the request runs: what the channel aborts, with the reason the request then fails with. */
  onAbort: Abortable | undefined;
}

/**
 * Sends the channel's requests to one origin.
 *
 * ```ts
 * const response = await sender.send('/demo.Calculator/add', { 'content-type': 'application/json' }, body, control);
 * if (response.status === 200) console.log(await response.bytes(1 << 20));
 * ```
 */
export interface HttpSender {
  /**
   * POSTs `body` to `path` (which starts with `/`); rejects with the client's error if no answer
   * came, or with the abort reason once `control` gives the request up. `headers` may be shared by
   * many calls (and frozen): a sender only reads them.
   */
  send(path: string, headers: Readonly<Record<string, string>>, body: Uint8Array, control: RequestControl): Promise<SentResponse>;
  /**
   * POSTs a body made as it is sent (a client stream's NDJSON), asking `body` for its next chunk
   * only once the connection has taken the last one; a sender that cannot stream a request body
   * collects it first. Settles as `send` does; a body that rejects aborts the request.
   */
  sendStream(path: string, headers: Readonly<Record<string, string>>, body: AsyncIterable<Uint8Array>, control: RequestControl): Promise<SentResponse>;
  /** Bytes read and written on the sender's connections so far, where it can tell (0 otherwise). */
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** The error that says why a send failed: the client's own, or the one it wraps. */
  causeOf(error: unknown): unknown;
  /** Closes the sender's connections; calls are settled before. */
  close(): Promise<void>;
}

/**
 * A sender over `fetch` (the browser's, or one given). `close` is what lets go of what that
 * `fetch` holds, if anything.
 */
export function fetchSender(origin: string, send: typeof fetch, close?: () => Promise<void>): HttpSender {
  const post = async (path: string, headers: Readonly<Record<string, string>>, body: Uint8Array, control: RequestControl) => {
    // Aborts the request and, later, the reading of its body.
    const controller = new AbortController();
    if (control.abortReason !== undefined) controller.abort(control.abortReason);
    else control.onAbort = controller;
    return new FetchResponse(await send(origin + path, { method: 'POST', headers, body, signal: controller.signal }));
  };
  return {
    send: post,
    // Browsers stream a request body only over HTTP/2 and later (and only with `duplex: 'half'`):
    // over HTTP/1.1 the whole stream is collected and sent as one body.
    sendStream: async (path, headers, body, control) => post(path, headers, await collectBody(body), control),
    bytesIn: 0,
    bytesOut: 0,
    // fetch rejects with "fetch failed", the network's error as its cause.
    causeOf: (error) => (typeof error === 'object' && error !== null ? readField(error, 'cause') : undefined),
    close: async () => {
      await close?.();
    },
  };
}

class FetchResponse implements SentResponse {
  constructor(private readonly response: Response) {}

  get status(): number {
    return this.response.status;
  }

  get statusText(): string {
    return this.response.statusText;
  }

  header(name: string): string | undefined {
    return this.response.headers.get(name) ?? undefined;
  }

  metadata(): Metadata | undefined {
    return readMetadata(this.response.headers);
  }

  bytes(limit: number): Promise<Uint8Array> {
    return readLimited(this.response, limit);
  }

  reader(): ChunkReader {
    const body = this.response.body;
    if (body === null) return { read: () => Promise.resolve({ done: true, value: undefined }), cancel: () => Promise.resolve() };
    const reader = body.getReader();
    return { read: () => reader.read() as Promise<IteratorResult<Uint8Array, unknown>>, cancel: () => reader.cancel().catch(() => {}) };
  }

  discard(): void {
    this.response.body?.cancel().catch(() => {});
  }
}
