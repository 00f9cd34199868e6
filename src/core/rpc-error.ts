import { Code, codeName, isCode } from './code.js';
import { isPlainObject, plainDetails, readField } from './plain-data.js';

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

  /** `code` must be a failure: OK, or a number that is no `Code`, becomes UNKNOWN. */
  constructor(code: Code, message: string, options: RpcErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = isFailure(code) ? code : Code.UNKNOWN;
    this.name = options.name ?? 'RpcError';
    this.details = options.details ?? {};
    this.unprocessed = options.unprocessed ?? false;
  }

  /** `[NOT_FOUND] service demo.Calc:1.0.0 is not provided here` */
  override toString(): string {
    return `${this.name} [${codeName(this.code)}] ${this.message}`;
  }

  /**
   * Turns anything thrown into an `RpcError`, and never throws itself. An `RpcError` passes as it is;
   * another `Error` keeps its name, message and plain-data details with code `fallback` (or the
   * `code` it carries, if that is a failure code: a child process's `code: 'ENOENT'` or an exit
   * status is not one). Any other value, or an error whose fields cannot be read (a getter or a
   * Proxy trap that throws), becomes a `fallback` error that describes it.
   */
  static from(error: unknown, fallback: Code = Code.UNKNOWN): RpcError {
    try {
      if (error instanceof RpcError && isWellFormed(error)) return error;
      if (error instanceof Error) return fromError(error, fallback);
    } catch {
      // instanceof ran a Proxy's getPrototypeOf trap, which threw: describe the value without touching it again
    }
    return new RpcError(fallback, describeThrown(error), { cause: error });
  }
}

/** A field of a caught error whose getters may throw; the fallback when it does or is no string. */
function readString(error: object, key: string, fallback: string): string {
  const value = readField(error, key);
  return typeof value === 'string' ? value : fallback;
}

function fromError(error: Error, fallback: Code): RpcError {
  const own = readField(error, 'code');
  return new RpcError(isFailure(own) ? own : fallback, readString(error, 'message', 'error with an unreadable message'), {
    name: readString(error, 'name', 'Error'),
    cause: error,
    details: plainDetails(readField(error, 'details')),
  });
}

/** Whether an RpcError's fields are still what the class promises (a handler may have replaced them). */
function isWellFormed(error: RpcError): boolean {
  return (
    isFailure(readField(error, 'code')) &&
    typeof readField(error, 'message') === 'string' &&
    typeof readField(error, 'name') === 'string' &&
    isPlainObject(readField(error, 'details'))
  );
}

function isFailure(code: unknown): code is Code {
  return isCode(code) && code !== Code.OK;
}

/** A short description of a thrown value that is not an Error, read without calling into it. */
function describeThrown(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return `non-error value thrown: ${String(value)}`;
    case 'symbol':
      return 'non-error value thrown: a symbol';
    case 'function':
      return 'non-error value thrown: a function';
    default:
      return value === null ? 'non-error value thrown: null' : 'non-error value thrown: an object';
  }
}

/**
 * The error of a call whose signal fired, never throwing whatever the abort reason is: the reason
 * itself if it is an `RpcError`, else `CANCELLED` saying why (`cancelled: …`).
 */
export function cancelledBy(reason: unknown): RpcError {
  const error = RpcError.from(reason, Code.CANCELLED);
  if (error === reason) return error;
  return new RpcError(Code.CANCELLED, reason === undefined ? 'cancelled by the caller' : `cancelled: ${error.message}`, { cause: reason });
}

/** A never-throwing description of a caught value, for messages such as `cannot encode: ${…}`. */
export function errorMessage(value: unknown): string {
  return RpcError.from(value).message;
}

/** The form in which an error crosses the wire; stacks stay with the process that threw. */
export interface WireError {
  code: number;
  name: string;
  message: string;
  details?: ErrorDetails;
}

/**
 * The wire form of an error; never throws. Details are copied as plain data, so a getter that
 * throws, a cycle or a function in them cannot make the error response itself fail.
 */
export function toWireError(error: RpcError): WireError {
  const safe = RpcError.from(error);
  const wire: WireError = { code: safe.code, name: safe.name, message: safe.message };
  const details = plainDetails(safe.details);
  if (details !== undefined && Object.keys(details).length > 0) wire.details = details;
  return wire;
}

/** Rebuilds an error received from a peer, trusting nothing about its shape. */
export function fromWireError(value: unknown): RpcError {
  if (!isPlainRecord(value)) return new RpcError(Code.INTERNAL, 'malformed error from peer');
  const code = isFailure(value.code) ? value.code : Code.UNKNOWN;
  const message = typeof value.message === 'string' ? value.message : '';
  const name = typeof value.name === 'string' && value.name.length > 0 ? value.name : 'RpcError';
  const details = isPlainRecord(value.details) ? value.details : undefined;
  return new RpcError(code, message, { name, details });
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
