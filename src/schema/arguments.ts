/*
 * The check of a call's arguments against its method's schemas, one schema per parameter. It runs
 * on the server, in the call table, before the implementation: whatever the transport decoded the
 * arguments from. Each argument is replaced in place by its schema's output (a default filled in,
 * a string coerced to a number), so the implementation sees what the schemas promise.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import { CheckedStream } from './checked-stream.js';
import { collectIssues, describeIssues, issueDetails, type IssueList } from './issues.js';
import { isThenable, refused, validatorOf, type Outcome, type Validator } from './standard.js';
import { isAsyncIterable } from '../core/async-iterable.js';

/**
 * Checks the arguments of one call, replacing each by its schema's output. Throws an `RpcError`
 * (`INVALID_ARGUMENT`, with the issues in its details) for arguments the schemas refuse; returns a
 * promise only when a schema answered with one, so a call whose schemas are synchronous waits for
 * nothing.
 */
export type ArgumentsCheck = (args: unknown[]) => Promise<void> | undefined;

/**
 * The check for a method taking `schemas.length` arguments. Fewer arguments are checked as
 * `undefined`, so that an optional parameter or a default works when a caller leaves it out (or
 * its serializer drops a trailing `undefined`); more are refused.
 */
export function argumentsCheck(method: string, schemas: readonly StandardSchemaV1[]): ArgumentsCheck {
  const validators = schemas.map((schema, index) => validatorOf(schema, `argument ${index} of ${method}`));
  const count = validators.length;
  return (args) => {
    if (args.length > count) {
      throw new RpcError(Code.INVALID_ARGUMENT, `${method} takes ${count} ${count === 1 ? 'argument' : 'arguments'}, not ${args.length}`, {
        details: { expected: count, received: args.length },
      });
    }
    while (args.length < count) args.push(undefined);
    let issues: IssueList | undefined;
    let pending: Array<Promise<void>> | undefined;
    try {
      for (let index = 0; index < count; index++) {
        const outcome = (validators[index] as Validator)(args[index]);
        if (isThenable(outcome)) {
          (pending ??= []).push(outcome.then((settled) => {
            issues = settle(settled, args, index, issues);
          }));
        } else {
          issues = settle(outcome, args, index, issues);
        }
      }
    } catch (error) {
      // A broken schema threw: the checks already under way are not waited for, nor may they reject unheard.
      if (pending !== undefined) Promise.all(pending).catch(() => undefined);
      throw error;
    }
    if (pending !== undefined) {
      return Promise.all(pending).then(() => {
        if (issues !== undefined) throw invalidArguments(method, issues);
      });
    }
    if (issues !== undefined) throw invalidArguments(method, issues);
    return undefined;
  };
}

/** Takes argument `index`'s outcome: its output in place of the argument, or its issues. */
function settle(outcome: Outcome, args: unknown[], index: number, issues: IssueList | undefined): IssueList | undefined {
  if (refused(outcome)) return collectIssues(outcome.issues, index, issues);
  args[index] = outcome.value;
  return issues;
}

function invalidArguments(method: string, issues: IssueList): RpcError {
  return new RpcError(Code.INVALID_ARGUMENT, `invalid arguments for ${method}: ${describeIssues(issues, 'args', true)}`, { details: { ...issueDetails(issues) } });
}

/**
 * The check for a method that takes a stream (`stream: 'client' | 'bidi'`): its one argument is
 * replaced by a stream that checks each item as the implementation reads it. An item the schema
 * refuses ends the implementation's loop with `INVALID_ARGUMENT` (details: the issues and the
 * item's position) and closes the caller's stream, so that the call fails with that error.
 */
export function itemsCheck(method: string, schema: StandardSchemaV1): ArgumentsCheck {
  const validate = validatorOf(schema, `the request stream of ${method}`);
  const refuse = (issues: IssueList, item: number): RpcError =>
    new RpcError(Code.INVALID_ARGUMENT, `invalid item ${item} of the request stream of ${method}: ${describeIssues(issues, 'item', false)}`, {
      details: { ...issueDetails(issues, item) },
    });
  return (args) => {
    const [source] = args;
    if (args.length !== 1 || !isAsyncIterable(source)) {
      throw new RpcError(Code.INVALID_ARGUMENT, `${method} takes one argument, an AsyncIterable of requests`);
    }
    args[0] = new CheckedStream(source, validate, refuse);
    return undefined;
  };
}
