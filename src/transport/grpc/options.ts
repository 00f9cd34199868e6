import { Code } from '../../core/code.js';
import { RpcError } from '../../core/rpc-error.js';
import { MAX_TIMER_MS } from '../../core/timer.js';
import type { Encoding } from './compression.js';

/**
 * Options of a `grpc://` address, read from its query: `grpc://0.0.0.0:50051?maxConcurrentStreams=200`.
 * Unknown names are refused, so a misspelt option does not pass unnoticed.
 */
export interface GrpcServerSettings {
  /** SETTINGS_MAX_CONCURRENT_STREAMS, and the most calls one connection may have running. Default 1000. */
  maxConcurrentStreams: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE: bytes of request headers (metadata included). Default 16384. */
  maxHeaderListSize: number;
  /** Largest request message, after decompression. Default: the server's `maxFrameSize` (16 MiB). */
  maxMessageSize: number;
  /** Bytes one connection may hold in partly received messages at once. Default 4 × maxMessageSize. */
  maxSessionBufferedBytes: number;
  /**
   * Time a request message has to arrive whole once its first bytes are in; a stalled or
   * trickling message is then answered RESOURCE_EXHAUSTED and its buffer released. Default 30 s.
   */
  messageTimeoutMs: number;
  /** Early resets a client may make within `resetWindowMs` before its connection is closed. Default 200. */
  maxResets: number;
  resetWindowMs: number;
  /** Compression of response messages over 1 KiB, when the client accepts it. Default `identity`. */
  compression: Encoding;
  /** HTTP/2 flow-control window of each stream. Default 1 MiB. */
  initialWindowSize: number;
}

export interface GrpcChannelSettings {
  /** Largest response message, after decompression. Default: the client's `maxFrameSize` (16 MiB). */
  maxMessageSize: number;
  /** Compression of request messages over 1 KiB. Default `identity`. */
  compression: Encoding;
  initialWindowSize: number;
  /**
   * Send an HTTP/2 PING this often, and drop the connection when one goes unanswered for the
   * client's `idleTimeoutMs`. Default 0: no PINGs, as gRPC clients do (gRPC servers refuse
   * frequent PINGs unless configured to accept them).
   */
  keepaliveMs: number;
}

const MiB = 1024 * 1024;

/** GOAWAY debug data of a server closing a connection that has been idle: not a server leaving. */
export const IDLE_GOAWAY = 'idle';

export function serverSettings(url: string, maxFrameSize: number): GrpcServerSettings {
  const query = new URL(url).searchParams;
  const maxMessageSize = int(query, 'maxMessageSize', maxFrameSize);
  const settings: GrpcServerSettings = {
    maxConcurrentStreams: int(query, 'maxConcurrentStreams', 1000),
    maxHeaderListSize: int(query, 'maxHeaderListSize', 16 * 1024),
    maxMessageSize,
    maxSessionBufferedBytes: int(query, 'maxSessionBufferedBytes', 4 * maxMessageSize),
    messageTimeoutMs: int(query, 'messageTimeoutMs', 30_000, MAX_TIMER_MS),
    maxResets: int(query, 'maxResets', 200),
    resetWindowMs: int(query, 'resetWindowMs', 1000),
    compression: encoding(query),
    initialWindowSize: int(query, 'initialWindowSize', MiB, 2 ** 31 - 1),
  };
  refuseUnknown(query, Object.keys(settings));
  return settings;
}

export function channelSettings(url: string, maxFrameSize: number): GrpcChannelSettings {
  const query = new URL(url).searchParams;
  const settings: GrpcChannelSettings = {
    maxMessageSize: int(query, 'maxMessageSize', maxFrameSize),
    compression: encoding(query),
    initialWindowSize: int(query, 'initialWindowSize', MiB, 2 ** 31 - 1),
    keepaliveMs: int(query, 'keepaliveMs', 0, 2 ** 31 - 1, 0),
  };
  refuseUnknown(query, Object.keys(settings));
  return settings;
}

function int(query: URLSearchParams, name: string, fallback: number, max = 2 ** 32 - 1, min = 1): number {
  const raw = query.get(name);
  if (raw === null) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
    throw new RpcError(Code.INVALID_ARGUMENT, `grpc:// option ${name} must be an integer from ${min} to ${max}, not ${JSON.stringify(raw)}`);
  }
  return value;
}

function encoding(query: URLSearchParams): Encoding {
  const raw = query.get('compression') ?? 'identity';
  if (raw !== 'identity' && raw !== 'gzip' && raw !== 'deflate') {
    throw new RpcError(Code.INVALID_ARGUMENT, `grpc:// option compression must be identity, gzip or deflate, not ${JSON.stringify(raw)}`);
  }
  return raw;
}

function refuseUnknown(query: URLSearchParams, known: string[]): void {
  for (const name of query.keys()) {
    if (!known.includes(name)) throw new RpcError(Code.INVALID_ARGUMENT, `unknown grpc:// option ${JSON.stringify(name)} (known: ${known.join(', ')})`);
  }
}
