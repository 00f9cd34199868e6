import type { OutgoingHttpHeaders } from 'node:http';
import type { RpcError } from '../../../core/rpc-error.js';
import type { ServerCall } from '../../../core/server-call.js';
import type { Exchange } from '../exchange.js';

/**
 * How an exchange reads and answers a request that is not plain JSON (an XML body or `Accept`, a
 * SOAP envelope). Set on the exchange once, when its content type and `Accept` are read; a JSON
 * request has none, and its path does not change.
 */
export interface AnswerFormat {
  /** Reads a body that is not JSON into what the route's argument rule takes; absent for a JSON body. */
  readonly decodeBody?: (bytes: Uint8Array) => unknown;
  /** Answers a unary call's result (`undefined` included); absent when the answer is JSON. */
  readonly result?: (exchange: Exchange, call: ServerCall, value: unknown, metadata: ReadonlyArray<[string, string]> | undefined) => void;
  /** Answers a failure; `status` is the one a JSON answer would have. Absent when the answer is JSON. */
  readonly fail?: (exchange: Exchange, error: RpcError, status: number, metadata?: ReadonlyArray<[string, string]>, extra?: OutgoingHttpHeaders) => void;
}
