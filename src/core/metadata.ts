import { toBase64 } from './base64.js';
import { Code } from './code.js';
import { RpcError } from './rpc-error.js';

/** A metadata value: text, or bytes for binary values. */
export type MetadataValue = string | Uint8Array;
export type MetadataInit = Metadata | Iterable<readonly [string, MetadataValue]> | Record<string, MetadataValue>;

// Lower-case like HTTP/2 header names; ':' starts the pseudo-keys the protocol reserves for itself.
const validKey = /^[a-z0-9_.-][a-z0-9_.\-/]{0,254}$/;

/**
 * Key/value pairs that travel with a call in both directions (gRPC metadata, Dubbo attachments).
 *
 * ```ts
 * await calc.add.with({ metadata: { 'x-tenant': 'acme' } })(1, 2);
 * ```
 */
export class Metadata implements Iterable<[string, MetadataValue]> {
  private readonly entries = new Map<string, MetadataValue>();

  constructor(init?: MetadataInit) {
    if (init === undefined) return;
    const pairs = init instanceof Metadata || isIterable(init) ? init : Object.entries(init);
    for (const [key, value] of pairs) this.set(key, value);
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): MetadataValue | undefined {
    return this.entries.get(key.toLowerCase());
  }

  has(key: string): boolean {
    return this.entries.has(key.toLowerCase());
  }

  set(key: string, value: MetadataValue): this {
    const normal = key.toLowerCase();
    if (!validKey.test(normal)) {
      throw new RpcError(Code.INVALID_ARGUMENT, `invalid metadata key ${JSON.stringify(key)}`);
    }
    if (typeof value !== 'string' && !(value instanceof Uint8Array)) {
      throw new RpcError(Code.INVALID_ARGUMENT, `metadata value of ${JSON.stringify(key)} must be a string or bytes`);
    }
    this.entries.set(normal, value);
    return this;
  }

  delete(key: string): boolean {
    return this.entries.delete(key.toLowerCase());
  }

  [Symbol.iterator](): Iterator<[string, MetadataValue]> {
    return this.entries[Symbol.iterator]();
  }

  toJSON(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [key, value] of this.entries) {
      Object.defineProperty(out, key, {
        value: typeof value === 'string' ? value : toBase64(value),
        enumerable: true,
      });
    }
    return out;
  }

  /** Adds a key without validation: for keys the wire decoder has already checked. */
  static unchecked(pairs: Array<[string, MetadataValue]>): Metadata {
    const md = new Metadata();
    for (const [key, value] of pairs) md.entries.set(key, value);
    return md;
  }
}

export function isValidMetadataKey(key: string): boolean {
  return validKey.test(key);
}

function isIterable(value: object): value is Iterable<readonly [string, MetadataValue]> {
  return typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function';
}
