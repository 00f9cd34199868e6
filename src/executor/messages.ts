import { Code, isCode } from '../core/code.js';
import type { Metadata, MetadataValue } from '../core/metadata.js';
import { RpcError, toWireError, type WireError } from '../core/rpc-error.js';
import type { MethodOptions, ServiceKey } from '../core/service.js';

/** Metadata as it crosses between threads: key/value pairs, or nothing when empty. */
export type MetadataPairs = Array<[string, MetadataValue]> | undefined;

/** The cloneable part of a service definition, sent to a worker once per service. */
export interface ServiceInfo {
  id: string;
  key: ServiceKey;
  methods: Array<[string, MethodOptions]>;
}

/** What the pool sends a worker. Each worker runs one call at a time. */
export type ToWorker =
  | { t: 'call'; id: number; method: string; args: unknown[]; metadata: MetadataPairs; deadline: number | undefined; oneWay: boolean; serviceId: string | undefined; service: ServiceInfo | undefined }
  | { t: 'cancel'; id: number; error: WireError }
  // a streaming result: send the next item / stop early
  | { t: 'next'; id: number }
  | { t: 'return'; id: number };

/** What a worker sends the pool. Every call ends with exactly one `done`. */
export type FromWorker =
  | { t: 'ready' }
  | { t: 'failed'; error: WireError }
  | { t: 'stream'; id: number; metadata: MetadataPairs }
  | { t: 'item'; id: number; value: unknown }
  | { t: 'done'; id: number; ok: true; value: unknown; metadata: MetadataPairs }
  | { t: 'done'; id: number; ok: false; error: WireError; metadata: MetadataPairs };

/** `workerData` of every pool worker. */
export interface WorkerSetup {
  /** URL of the implementation module. */
  module: string;
  exportName: string;
  init: unknown;
  /** Int32 slots: [id of the cancelled call, its code]; written by the pool, read by `WorkerCall.cancelled`. */
  cancelFlag: SharedArrayBuffer;
}

export const CANCEL_ID = 0;
export const CANCEL_CODE = 1;

export function metadataPairs(metadata: Metadata | undefined): MetadataPairs {
  return metadata === undefined || metadata.size === 0 ? undefined : [...metadata];
}

export function mergeMetadata(into: Metadata | undefined, pairs: MetadataPairs): void {
  if (into === undefined || pairs === undefined) return;
  for (const [key, value] of pairs) into.set(key, value);
}

/** An error in the form that crosses threads, keeping name, message, code and plain-data details. */
export function wireErrorOf(error: unknown): WireError {
  return toWireError(RpcError.from(error));
}

/** The error a cancelled call's signal carries when only its code is known. */
export function cancelReason(code: number): RpcError {
  if (code === Code.DEADLINE_EXCEEDED) return new RpcError(Code.DEADLINE_EXCEEDED, 'deadline exceeded');
  if (code === Code.CANCELLED || !isCode(code)) return new RpcError(Code.CANCELLED, 'call cancelled');
  return new RpcError(code, 'call aborted');
}
