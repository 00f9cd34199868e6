import { Code, codeName, isCode } from '../../core/code.js';
import { RpcError, toWireError } from '../../core/rpc-error.js';
import { jsonSerializer } from '../../serialization/json.js';
import { codeOf } from './status-map.js';

const json = jsonSerializer();
const codesByName = new Map<string, Code>(Object.entries(Code).map(([name, code]) => [name, code]));

/**
 * The error body: `{ code, name, message, details }`, code by name (`"NOT_FOUND"`). Never throws:
 * the fields are read through `toWireError`, which keeps only plain data of the details.
 */
export function encodeError(error: RpcError): Uint8Array {
  const wire = toWireError(error);
  const body = { code: codeName(wire.code), name: wire.name, message: wire.message, details: wire.details ?? {} };
  try {
    return json.encode(body);
  } catch {
    // details that JSON still cannot hold are left out rather than losing the error
    return json.encode({ ...body, details: {} });
  }
}

/**
 * The error a failed response stands for. A Switchyard error body gives the code, name, message
 * and details; anything else (a proxy's error page, say) is read through the status table.
 */
export function decodeError(status: number, statusText: string, body: Uint8Array, contentIsJson: boolean): RpcError {
  if (contentIsJson) {
    let value: unknown;
    try {
      value = json.decode(body);
    } catch {
      value = undefined;
    }
    const error = errorFromBody(value);
    if (error !== undefined) return error;
  }
  const code = codeOf(status);
  const text = new TextDecoder().decode(body.subarray(0, 200)).trim();
  return new RpcError(code === Code.OK ? Code.UNKNOWN : code, `HTTP ${status}${statusText ? ` ${statusText}` : ''}${text ? `: ${text}` : ''}`);
}

/** The error an error body describes, or undefined if `value` is not one. */
export function errorFromBody(value: unknown): RpcError | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  const code = typeof record.code === 'string' ? codesByName.get(record.code) : isCode(record.code) ? record.code : undefined;
  if (code === undefined || code === Code.OK) return undefined;
  const details = record.details;
  return new RpcError(code, typeof record.message === 'string' ? record.message : '', {
    name: typeof record.name === 'string' && record.name.length > 0 ? record.name : 'RpcError',
    details: typeof details === 'object' && details !== null && !Array.isArray(details) ? (details as Record<string, unknown>) : undefined,
  });
}
