/*
 * The one place that calls a Standard Schema (https://standardschema.dev): zod, valibot, arktype
 * and others all expose `~standard.validate`, which answers `{ value }` or `{ issues }`, either at
 * once or as a promise (a schema with async refinements). Everything else in this folder goes
 * through `validatorOf`, so a library that breaks the contract (throws, answers a non-object)
 * fails one call with INTERNAL, as any other server bug does.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { Code } from '../core/code.js';
import { RpcError, errorMessage } from '../core/rpc-error.js';

/** What checking one value gives: the output, or the library's issues (plain-data copies come later). */
export interface Outcome {
  readonly value?: unknown;
  readonly issues?: unknown;
}

/** Checks one value; a promise only when the schema answered with one. */
export type Validator = (value: unknown) => Outcome | Promise<Outcome>;

/** Whether `value` is a Standard Schema: an object or function whose `~standard.validate` is a function. */
export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
  try {
    const props: unknown = (value as Partial<StandardSchemaV1>)['~standard'];
    return typeof props === 'object' && props !== null && typeof (props as Partial<StandardSchemaV1.Props>).validate === 'function';
  } catch {
    return false;
  }
}

/**
 * The checking function of `schema`, read once: some libraries build `~standard` anew on each read
 * (valibot does), which a call path must not pay for. `what` names the value in the error a
 * broken schema gives (`argument 0 of demo.Calculator.add`).
 */
export function validatorOf(schema: StandardSchemaV1, what: string): Validator {
  const props = schema['~standard'];
  return (value) => {
    let answer: unknown;
    try {
      answer = props.validate(value);
    } catch (error) {
      throw brokenSchema(what, `threw: ${errorMessage(error)}`, error);
    }
    if (isThenable(answer)) return Promise.resolve(answer).then((settled) => outcomeOf(settled, what), (error: unknown) => {
      throw brokenSchema(what, `rejected: ${errorMessage(error)}`, error);
    });
    return outcomeOf(answer, what);
  };
}

function outcomeOf(answer: unknown, what: string): Outcome {
  if (typeof answer !== 'object' || answer === null) throw brokenSchema(what, `answered ${answer === null ? 'null' : typeof answer}, not a result`);
  return answer as Outcome;
}

/** Whether an outcome is a promise (or another thenable a library chose): the async path. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as Partial<PromiseLike<unknown>>).then === 'function';
}

/** Whether an outcome refused the value: the standard's "a falsy `issues` is success". */
export function refused(outcome: Outcome): boolean {
  return Boolean(outcome.issues);
}

function brokenSchema(what: string, how: string, cause?: unknown): RpcError {
  return new RpcError(Code.INTERNAL, `the schema of ${what} ${how}`, { cause });
}
