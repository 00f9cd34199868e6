import { Metadata, isValidMetadataKey, type MetadataValue } from '../../core/metadata.js';
import { errorSerializer, type SerializerSet } from '../../serialization/registry.js';
import type { Serializer } from '../../serialization/serializer.js';

/**
 * The message format (docs/amqp.md is the contract):
 *
 * - request: `type` = method name, `content_type` = serializer, body = the arguments as one array,
 *   `reply_to` + `correlation_id` for a call (none for a cast or fanout), `expiration` = the time
 *   left in ms (none beyond MAX_EXPIRATION_MS), header `:deadline` = the absolute deadline in epoch
 *   ms, header `:retried` on a server's counted copy of an interrupted request (redelivery.ts),
 *   every other header = metadata;
 * - reply: `type` = `result` (body = the value, empty for none) or `error` (body =
 *   `{ code, name, message, details? }`), the request's `correlation_id`, headers = response metadata.
 */
export const RESULT_TYPE = 'result';
export const ERROR_TYPE = 'error';
/** A notice on a topic's fanout exchange: the caller gave up on the call it names. */
export const CANCEL_TYPE = ':cancel';
export const DEADLINE_HEADER = ':deadline';
/**
 * The longest `expiration` sent, in ms (2^32-1, 49.7 days): brokers refuse longer ones by closing
 * the publishing channel (RabbitMQ 3.10 takes up to ten years, older versions 2^32-1). A request
 * with a deadline further away carries only `:deadline`.
 */
export const MAX_EXPIRATION_MS = 2 ** 32 - 1;
/** What a request without `content_type` is read as, for plain AMQP programs. */
export const DEFAULT_CONTENT_TYPE = 'application/json';

const knownTypes = new Map([['json', 'application/json'], ['msgpack', 'application/msgpack']]);
const knownNames = new Map([...knownTypes].map(([name, type]) => [type, name]));
knownNames.set('application/x-msgpack', 'msgpack');
knownNames.set('application/vnd.msgpack', 'msgpack');

/** `application/json`, `application/msgpack`, or `application/x-<name>` for other serializers. */
export function contentTypeOf(serializer: Serializer): string {
  return knownTypes.get(serializer.name) ?? `application/x-${serializer.name}`;
}

/** The serializer a content type names, among those enabled; parameters such as `; charset=utf-8` are ignored. */
export class ContentTypes {
  private readonly cache = new Map<string, Serializer | undefined>();

  constructor(private readonly serializers: SerializerSet) {}

  serializerFor(contentType: string | undefined): Serializer | undefined {
    const key = contentType ?? DEFAULT_CONTENT_TYPE;
    if (this.cache.has(key)) return this.cache.get(key);
    const media = key.split(';')[0]!.trim().toLowerCase();
    const name = knownNames.get(media) ?? (media.startsWith('application/x-') ? media.slice('application/x-'.length) : undefined);
    let serializer: Serializer | undefined;
    if (name !== undefined) {
      try {
        serializer = this.serializers.named(name);
      } catch {
        serializer = name === 'json' ? errorSerializer : undefined;
      }
    }
    if (this.cache.size < 64) this.cache.set(key, serializer);
    return serializer;
  }
}

/** Headers for metadata (bytes as AMQP byte arrays), plus the transport's own `:` headers. */
export function toHeaders(metadata: Metadata | undefined, deadline: number | undefined): Record<string, unknown> | undefined {
  if ((metadata === undefined || metadata.size === 0) && deadline === undefined) return undefined;
  const headers: Record<string, unknown> = {};
  if (deadline !== undefined) headers[DEADLINE_HEADER] = deadline;
  if (metadata !== undefined) {
    for (const [key, value] of metadata) {
      headers[key] = typeof value === 'string' ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    }
  }
  return headers;
}

/**
 * Metadata from received headers. Keys that are not valid metadata keys (the transport's own, or
 * broker-added ones such as `x-death`) and values other than text, bytes, numbers and booleans are
 * left out; header names are lower-cased.
 */
export function fromHeaders(headers: Record<string, unknown> | undefined): Metadata | undefined {
  if (headers === undefined) return undefined;
  const pairs: Array<[string, MetadataValue]> = [];
  for (const key of Object.keys(headers)) {
    const normal = key.toLowerCase();
    if (!isValidMetadataKey(normal)) continue;
    const value = headers[key];
    if (typeof value === 'string' || value instanceof Uint8Array) pairs.push([normal, value]);
    else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') pairs.push([normal, String(value)]);
  }
  return pairs.length === 0 ? undefined : Metadata.unchecked(pairs);
}

/** The absolute deadline a request carries, if any and if readable. */
export function deadlineOf(headers: Record<string, unknown> | undefined): number | undefined {
  const value = headers?.[DEADLINE_HEADER];
  const deadline = typeof value === 'number' ? value : typeof value === 'bigint' || typeof value === 'string' ? Number(value) : NaN;
  return Number.isFinite(deadline) && deadline > 0 ? deadline : undefined;
}

/** The `expiration` of a request with `left` ms to its deadline, if a broker accepts one that long. */
export function expirationOf(left: number): string | undefined {
  return left <= MAX_EXPIRATION_MS ? String(Math.ceil(left)) : undefined;
}

/** A result or error body as a Buffer view, without copying. */
export function asBuffer(bytes: Uint8Array | undefined): Buffer {
  if (bytes === undefined) return EMPTY;
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const EMPTY = Buffer.alloc(0);
