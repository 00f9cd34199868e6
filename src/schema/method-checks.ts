/*
 * What the call table runs around one method's implementation when its definition has schemas:
 * made once, when the service is provided, so that a method without schemas pays nothing per call
 * and one with them pays only for its checks.
 */
import { Code } from '../core/code.js';
import type { Logger } from '../core/logger.js';
import { RpcError } from '../core/rpc-error.js';
import { returnsStream, takesStream, type MethodOptions } from '../core/service.js';
import { isAsyncIterable } from '../core/async-iterable.js';
import { argumentsCheck, itemsCheck, type ArgumentsCheck } from './arguments.js';
import { CheckedStream } from './checked-stream.js';
import { collectIssues, describeIssues, type IssueList } from './issues.js';
import { isThenable, refused, validatorOf, type Outcome } from './standard.js';

/** The checks of one method, each a no-op when its schema is absent. */
export interface MethodChecks {
  /** Checks the arguments in place, before the implementation runs; see `ArgumentsCheck`. */
  readonly args: ArgumentsCheck;
  /** The unary result to send: the result schema's output, or an `INTERNAL` error for a result it refuses. */
  readonly result: (value: unknown) => unknown;
  /** The result stream to send, its items checked the same way. */
  readonly stream: (stream: AsyncIterable<unknown>) => AsyncIterable<unknown>;
}

const noArguments: ArgumentsCheck = () => undefined;
const same = <T>(value: T): T => value;

/**
 * The checks of `method` of service `serviceId`, or undefined when it has nothing to check: no
 * `args`, and no `result` with `checkResult: true`. A result is never checked for a one-way method,
 * whose result nobody receives.
 */
export function methodChecks(serviceId: string, method: string, options: Readonly<MethodOptions>, logger: Logger): MethodChecks | undefined {
  const resultSchema = options.checkResult === true && options.oneWay !== true ? options.result : undefined;
  if (options.args === undefined && resultSchema === undefined) return undefined;
  const name = `${serviceId}.${method}`;
  let args = noArguments;
  if (options.args !== undefined) {
    const [itemSchema] = options.args;
    if (!takesStream(options)) args = argumentsCheck(name, options.args);
    else if (itemSchema !== undefined) args = itemsCheck(name, itemSchema);
  }
  if (resultSchema === undefined) return { args, result: same, stream: same };
  const validate = validatorOf(resultSchema, `the result of ${name}`);
  // The server broke its own contract: the caller hears INTERNAL, the server's log gets the issues.
  const refuse = (issues: IssueList, item?: number): RpcError => {
    const what = item === undefined ? `the result of ${name}` : `item ${item} of the result stream of ${name}`;
    logger.error({ service: serviceId, method, item, issue: describeIssues(issues, 'result', false), issues: issues.issues }, `${what} does not match its schema`);
    return new RpcError(Code.INTERNAL, `${what} does not match its schema`);
  };
  const checkOne = (value: unknown): unknown => {
    // A unary method returning a stream by mistake is the dispatcher's to name.
    if (isAsyncIterable(value)) return value;
    const outcome = validate(value);
    return isThenable(outcome) ? outcome.then((settled) => resultOf(settled, refuse)) : resultOf(outcome, refuse);
  };
  const checkStream = (stream: AsyncIterable<unknown>): AsyncIterable<unknown> => new CheckedStream(stream, validate, refuse);
  return returnsStream(options) ? { args, result: same, stream: checkStream } : { args, result: checkOne, stream: same };
}

function resultOf(outcome: Outcome, refuse: (issues: IssueList) => RpcError): unknown {
  if (refused(outcome)) throw refuse(collectIssues(outcome.issues, undefined));
  return outcome.value;
}
