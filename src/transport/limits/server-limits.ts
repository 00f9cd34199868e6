import type { Server as NetServer, Socket } from 'node:net';
import { Code } from '../../core/code.js';
import type { Metadata } from '../../core/metadata.js';
import type { Refusals } from '../../core/refusals.js';
import { RpcError } from '../../core/rpc-error.js';
import type { DecodeLimits } from '../../serialization/serializer.js';
import { guardListener, type ListenerKind } from './listener-guard.js';

/** The limits of one server, every one set (`Infinity` for none); see `ServerLimitSettings` in src/options.ts. */
export interface ProcessLimits {
  readonly maxConnections: number;
  readonly maxConnectionsPerAddress: number;
  readonly firstRequestTimeoutMs: number;
  readonly maxMetadataEntries: number;
  readonly maxMetadataBytes: number;
  readonly maxDecompressionRatio: number;
}

/** What a metadata decoder needs to refuse a request's metadata. */
export interface MetadataLimits {
  readonly maxMetadataEntries: number;
  readonly maxMetadataBytes: number;
  /** Counts the refusal and makes the RESOURCE_EXHAUSTED error the caller gets. */
  exceeded(limit: 'maxMetadataEntries' | 'maxMetadataBytes', measured: number): RpcError;
}

/**
 * How many times its compressed size a message may grow: zlib's densest output is about 1000
 * times its input, which only a bomb (or a block of zeros) reaches; ordinary data stays under 20.
 */
export const DEFAULT_MAX_DECOMPRESSION_RATIO = 200;

/** What a decompressor needs: the expansion allowed, and whom to tell of a refusal. */
export interface DecompressionLimits {
  readonly maxRatio: number;
  refused?(): void;
}

/**
 * The limits that protect one server process, shared by all its listeners: the connections open
 * (in all, and per remote address), the first-request timeout, metadata, decoding and decompression,
 * with the counter every refusal goes to. Transports reach it as `ServerContext.limits`.
 */
export class ServerLimits implements MetadataLimits {
  readonly maxMetadataEntries: number;
  readonly maxMetadataBytes: number;
  readonly decompression: DecompressionLimits;
  private open = 0;
  private readonly openFrom = new Map<string, number>();

  constructor(
    readonly values: ProcessLimits,
    readonly refusals: Refusals,
  ) {
    this.maxMetadataEntries = values.maxMetadataEntries;
    this.maxMetadataBytes = values.maxMetadataBytes;
    this.decompression = { maxRatio: values.maxDecompressionRatio, refused: () => refusals.refuse('maxDecompressionRatio') };
  }

  /** Decode limits that count their refusals here. */
  decodeLimits(limits: DecodeLimits): DecodeLimits {
    return { maxDepth: limits.maxDepth, maxItems: limits.maxItems, refused: (limit) => this.refusals.refuse(limit) };
  }

  /**
   * Puts a listener under these limits; called right after the listener is made, before it listens.
   * `kind` says how its protocol shows a first request (see listener-guard.ts).
   */
  guard(server: NetServer, kind: ListenerKind): void {
    guardListener(server, kind, this);
  }

  /**
   * Takes a place for a newly accepted connection, released when it closes; false (counted) when
   * the server or the remote address has no place left, and the caller closes the connection.
   */
  admit(socket: Socket): boolean {
    const address = addressOf(socket);
    if (this.open >= this.values.maxConnections) {
      this.refusals.refuse('maxConnections', { remote: address, open: this.open });
      return false;
    }
    const fromAddress = this.openFrom.get(address) ?? 0;
    if (fromAddress >= this.values.maxConnectionsPerAddress) {
      this.refusals.refuse('maxConnectionsPerAddress', { remote: address, open: fromAddress });
      return false;
    }
    this.open++;
    this.openFrom.set(address, fromAddress + 1);
    socket.once('close', () => this.release(address));
    return true;
  }

  /** Connections holding a place (diagnostics and tests). */
  get openConnections(): number {
    return this.open;
  }

  /** RESOURCE_EXHAUSTED (counted) for received metadata past a limit, or undefined. */
  metadataRefusal(metadata: Metadata | undefined): RpcError | undefined {
    if (metadata === undefined) return undefined;
    if (metadata.size > this.maxMetadataEntries) return this.exceeded('maxMetadataEntries', metadata.size);
    let bytes = 0;
    for (const [key, value] of metadata) bytes += key.length + (typeof value === 'string' ? Buffer.byteLength(value) : value.byteLength);
    return bytes > this.maxMetadataBytes ? this.exceeded('maxMetadataBytes', bytes) : undefined;
  }

  exceeded(limit: 'maxMetadataEntries' | 'maxMetadataBytes', measured: number): RpcError {
    this.refusals.refuse(limit, { measured });
    const [unit, max] = limit === 'maxMetadataEntries' ? ['entries', this.maxMetadataEntries] : ['bytes', this.maxMetadataBytes];
    return new RpcError(Code.RESOURCE_EXHAUSTED, `metadata of ${measured} ${unit} exceeds the limit of ${max} (${limit})`);
  }

  private release(address: string): void {
    this.open--;
    const left = (this.openFrom.get(address) ?? 1) - 1;
    if (left > 0) this.openFrom.set(address, left);
    else this.openFrom.delete(address);
  }
}

/** The remote IP address; an IPv4 client reaching a dual-stack listener counts as itself. */
function addressOf(socket: Socket): string {
  const address = socket.remoteAddress ?? 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
