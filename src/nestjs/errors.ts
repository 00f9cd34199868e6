/**
 * What a Nest handler throws, as the `RpcError` its caller gets. The one place where Nest's
 * exceptions meet Switchyard's codes (docs/nestjs.md, "Errors"):
 *
 * - an `RpcError` passes as it is;
 * - the `RpcException` Nest throws when a guard refuses a call is PERMISSION_DENIED;
 * - an `RpcException` carries a string (code UNKNOWN, that message) or an object whose `code` is a
 *   `Code` (a number, or a name such as `'NOT_FOUND'`) or, failing that, whose `statusCode` is an
 *   HTTP status; `message`, `name` and plain-data `details` are kept;
 * - an `HttpException` (`NotFoundException`, a `ValidationPipe`'s `BadRequestException`, ...) by its
 *   status, through the table of the HTTP transport; 422 is INVALID_ARGUMENT, other 4xx
 *   FAILED_PRECONDITION, other 5xx INTERNAL; its response body, when an object, becomes the details;
 * - any other `Error` as Switchyard's own servers report it: UNKNOWN, with its name and message;
 * - the plain objects Nest's own exception filter makes (`{ status: 'error', message }`) like an
 *   `RpcException`'s object.
 */
import { HttpException } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { Code, isCode } from '../core/code.js';
import { isPlainObject, plainDetails, readField } from '../core/plain-data.js';
import { RpcError } from '../core/rpc-error.js';
import { codeOf } from '../transport/http/status-map.js';

/** What Nest throws (as an `RpcException`) when a guard refuses a call (`FORBIDDEN_MESSAGE` of @nestjs/core). */
const GUARD_REFUSAL = 'Forbidden resource';

/** What a Nest handler threw, as the `RpcError` its caller gets (the mapping above); never throws. */
export function toRpcError(thrown: unknown): RpcError {
  try {
    if (thrown instanceof RpcError) return RpcError.from(thrown);
    if (thrown instanceof RpcException) {
      if (thrown.getError() === GUARD_REFUSAL) return new RpcError(Code.PERMISSION_DENIED, GUARD_REFUSAL, { name: 'RpcException', cause: thrown });
      return fromShape(thrown.getError(), 'RpcException', thrown.message, thrown);
    }
    if (thrown instanceof HttpException) return fromHttpException(thrown);
    if (thrown instanceof Error) return RpcError.from(thrown);
    if (typeof thrown === 'object' && thrown !== null) return fromShape(thrown, 'RpcError', 'error without a message', thrown);
  } catch {
    // a getter or a Proxy trap threw: described below without being touched again
  }
  return RpcError.from(thrown);
}

/** The code of an HTTP status: the HTTP transport's table, 422 (a validation's refusal), then the status's class. */
export function codeOfHttpStatus(status: number): Code {
  const code = codeOf(status);
  if (code !== Code.UNKNOWN || status === 500) return code;
  if (status === 422) return Code.INVALID_ARGUMENT;
  if (status >= 400 && status < 500) return Code.FAILED_PRECONDITION;
  if (status >= 500 && status < 600) return Code.INTERNAL;
  return Code.UNKNOWN;
}

/** An `RpcException`'s error, or an object a filter made: a message, or fields of an error. */
function fromShape(shape: unknown, defaultName: string, defaultMessage: string, cause: unknown): RpcError {
  if (typeof shape === 'string') return new RpcError(Code.UNKNOWN, shape, { name: defaultName, cause });
  if (typeof shape !== 'object' || shape === null) return new RpcError(Code.UNKNOWN, defaultMessage, { name: defaultName, cause });
  const name = readField(shape, 'name');
  return new RpcError(codeOfShape(shape), messageOf(readField(shape, 'message')) ?? defaultMessage, {
    name: typeof name === 'string' && name.length > 0 ? name : defaultName,
    details: plainDetails(readField(shape, 'details')),
    cause,
  });
}

function codeOfShape(shape: object): Code {
  const code = readField(shape, 'code');
  if (isCode(code) && code !== Code.OK) return code;
  if (typeof code === 'string' && Object.hasOwn(Code, code) && code !== 'OK') return Code[code as keyof typeof Code];
  const statusCode = readField(shape, 'statusCode');
  return typeof statusCode === 'number' ? codeOfHttpStatus(statusCode) : Code.UNKNOWN;
}

function fromHttpException(exception: HttpException): RpcError {
  const response: unknown = exception.getResponse();
  const body = isPlainObject(response) ? response : undefined;
  const message = typeof response === 'string' ? response : messageOf(body?.message);
  return new RpcError(codeOfHttpStatus(exception.getStatus()), message ?? exception.message, {
    name: exception.name,
    details: plainDetails(body),
    cause: exception,
  });
}

/** A message, or the list of them a `ValidationPipe` makes, as one string. */
function messageOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string')) return value.join('; ');
  return undefined;
}
