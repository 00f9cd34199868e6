import { Code, codeName, isCode } from './code.js';

/** Plain data that travels with an error: JSON-like values only. */
export type ErrorDetails = Record<string, unknown>;

export interface RpcErrorOptions {
  /** Plain data for the caller, e.g. `{ field: 'b' }`. */
  details?: ErrorDetails;
  /** The error's name as the caller sees it; defaults to `RpcError`. */
  name?: string;
  cause?: unknown;
  /**
   * True when no server can have run the call: it never left this process, or the server refused it
   * before dispatch. Such a call is always safe to retry on another provider.
   */
  unprocessed?: boolean;
}

/**
 * The one error class of Switchyard. Every failure a caller sees is an `RpcError` with a `Code`.
 *
 * ```ts
 * throw new RpcError(Code.INVALID_ARGUMENT, 'divisor must not be 0', { details: { field: 'b' } });
 * ```
 */
export class RpcError extends Error {
  readonly code: Code;
  readonly details: ErrorDetails;
  readonly unprocessed: boolean;

  constructor(code: Code, message: string, options: RpcErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = options.name ?? 'RpcError';
    this.details = options.details ?? {};
    this.unprocessed = options.unprocessed ?? false;
  }

  /** `[NOT_FOUND] service demo.Calc:1.0.0 is not provided here` */
  override toString(): string {
    return `${this.name} [${codeName(this.code)}] ${this.message}`;
  }

  /**
   * Turns anything thrown into an `RpcError`. An `RpcError` passes as it is; another `Error` keeps its
   * name and message with code UNKNOWN (or the `code` it carries, if that is a valid one).
   */
  static from(error: unknown, fallback: Code = Code.UNKNOWN): RpcError {
    if (error instanceof RpcError) return error;
    if (error instanceof Error) {
      const own = (error as { code?: unknown }).code;
      const details = (error as { details?: unknown }).details;
      return new RpcError(isCode(own) ? own : fallback, error.message, {
        name: error.name,
        cause: error,
        details: isPlainRecord(details) ? details : undefined,
      });
    }
    return new RpcError(fallback, typeof error === 'string' ? error : 'non-error value thrown', { cause: error });
  }
}

/** The form in which an error crosses the wire; stacks stay with the process that threw. */
export interface WireError {
  code: number;
  name: string;
  message: string;
  details?: ErrorDetails;
}

export function toWireError(error: RpcError): WireError {
  const wire: WireError = { code: error.code, name: error.name, message: error.message };
  if (Object.keys(error.details).length > 0) wire.details = error.details;
  return wire;
}

/** Rebuilds an error received from a peer, trusting nothing about its shape. */
export function fromWireError(value: unknown): RpcError {
  if (!isPlainRecord(value)) return new RpcError(Code.INTERNAL, 'malformed error from peer');
  const code = isCode(value.code) && value.code !== Code.OK ? value.code : Code.UNKNOWN;
  const message = typeof value.message === 'string' ? value.message : '';
  const name = typeof value.name === 'string' && value.name.length > 0 ? value.name : 'RpcError';
  const details = isPlainRecord(value.details) ? value.details : undefined;
  return new RpcError(code, message, { name, details });
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
