import { Code } from '../../core/code.js';
import { RpcError } from '../../core/rpc-error.js';

/**
 * Server-sent events: the form a server stream takes for a request whose `Accept` asks for
 * `text/event-stream` (a browser's `EventSource`). Each item is an event whose data is the item's
 * JSON, with an `id:` when the method is resumable; the stream ends with an `end` event, or an
 * `error` event whose data is the error body. The rules are in docs/http.md, "Server-sent events".
 */
export const EVENT_STREAM = 'text/event-stream';

/** How often an event stream with nothing to send writes a comment, so that proxies keep it open. */
export const DEFAULT_HEARTBEAT_MS = 15_000;

/** Whether a request's `Accept` header asks for an event stream. */
export function wantsEvents(accept: string | string[] | undefined): boolean {
  return typeof accept === 'string' && accept.includes(EVENT_STREAM);
}

/** The `id:` field of an item's event: `idOf`'s value as text, which cannot hold a line break. */
export function eventId(id: unknown): string {
  const text = String(id);
  if (/[\r\n\0]/.test(text)) throw new RpcError(Code.INTERNAL, `the id ${JSON.stringify(text)} of a stream item cannot be sent as a server-sent event id: it holds a line break or NUL`);
  return text;
}

/** The fields before an item's data. */
export function eventHead(id: string | undefined): string {
  return id === undefined ? 'data: ' : `id: ${id}\ndata: `;
}

export const EVENT_END = '\n\n';
/** The last event of a stream that ended well; `data:` is there so that an `EventSource` dispatches it. */
export const END_EVENT = 'event: end\ndata:\n\n';
export const ERROR_EVENT_HEAD = 'event: error\ndata: ';
export const PING = ': ping\n\n';
