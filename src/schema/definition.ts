import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import type { MethodOptions } from '../core/service.js';
import { isStandardSchema } from './standard.js';

/**
 * Refuses, when a service is defined, schema options the server could not use: `args` that is not
 * an array of Standard Schemas, a `result` that is not one, more than one schema for a method that
 * takes a stream (its one schema checks each item), or `checkResult` without a `result`.
 */
export function checkSchemaOptions(method: string, options: Readonly<MethodOptions>): void {
  const { args, result, checkResult, stream } = options;
  if (args !== undefined) {
    if (!Array.isArray(args)) throw invalid(`args of ${method} must be an array of schemas, one per parameter`);
    args.forEach((schema: unknown, index) => {
      if (!isStandardSchema(schema)) throw invalid(`args[${index}] of ${method} is not a Standard Schema (it has no ~standard.validate)`);
    });
    if ((stream === 'client' || stream === 'bidi') && args.length > 1) {
      throw invalid(`${method} takes a stream: give one schema in args, for each of its items`);
    }
  }
  if (result !== undefined && !isStandardSchema(result)) throw invalid(`result of ${method} is not a Standard Schema (it has no ~standard.validate)`);
  if (checkResult !== undefined && typeof checkResult !== 'boolean') throw invalid(`checkResult of ${method} must be true or false`);
  if (checkResult === true && result === undefined) throw invalid(`${method} has checkResult but no result schema to check with`);
}

function invalid(message: string): RpcError {
  return new RpcError(Code.INVALID_ARGUMENT, message);
}
