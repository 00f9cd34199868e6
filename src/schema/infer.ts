/*
 * Types read from schemas, both ways: the service type of a definition made from schemas alone,
 * and, for a definition given an interface, the schemas its methods' types allow. Types only:
 * nothing here exists at run time.
 *
 * A service type describes the implementation, so it is written in the schemas' output types: what
 * the implementation receives once the server has checked (and, for a schema that transforms,
 * converted) the arguments, and what the caller receives when the result is checked.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { MethodOptions } from '../core/service.js';

/** The output type of a schema; `unknown` for anything that is not one. */
export type SchemaOutput<S> = S extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<S> : unknown;

/** The options a definition made from schemas may give each method: any method options. */
export type SchemaMethods = Record<string, MethodOptions>;

/** Options of a definition whose service type is read from its schemas. */
export interface SchemaServiceOptions<M extends SchemaMethods> {
  version?: string;
  group?: string;
  /** Every remote method with its options; `args` and `result` schemas give the method's type. */
  methods: M;
}

/**
 * The service type of a definition whose methods are described by `M`, their options:
 *
 * ```ts
 * ServiceFromSchemas<{ add: { args: [ZodNumber, ZodNumber]; result: ZodNumber } }>
 * // { add(a: number, b: number): Promise<number> }
 * ```
 *
 * `stream: 'server'` makes a method return an `AsyncIterable` of the result's type, `'client'`
 * take one of the first argument schema's type, `'bidi'` both; `oneWay: true` returns
 * `Promise<void>`. A method without schemas is `(...args: unknown[]) => Promise<unknown>`.
 */
export type ServiceFromSchemas<M> = { -readonly [K in keyof M]: MethodFromOptions<M[K]> };

type MethodFromOptions<O> = (...args: ParametersFromOptions<O>) => ResultFromOptions<O>;

type ParametersFromOptions<O> = O extends { readonly stream: 'client' | 'bidi' }
  ? [requests: AsyncIterable<O extends { readonly args: readonly [infer S, ...unknown[]] } ? SchemaOutput<S> : unknown>]
  : O extends { readonly args: infer A extends readonly unknown[] }
    ? { -readonly [I in keyof A]: SchemaOutput<A[I]> }
    : unknown[];

type ResultFromOptions<O> = O extends { readonly stream: 'server' | 'bidi' }
  ? AsyncIterable<ResultType<O>>
  : O extends { readonly oneWay: true }
    ? Promise<void>
    : Promise<ResultType<O>>;

type ResultType<O> = O extends { readonly result: infer S } ? SchemaOutput<S> : unknown;

/**
 * The schemas a method typed `F` may be given in a definition with an interface: each argument
 * schema's output must fit its parameter (for a method taking an `AsyncIterable`, the one schema's
 * output must fit an item), and the result schema's output must fit the result (an item, for a
 * stream). A schema's input is free: it may accept more than it gives, or convert.
 */
export type SchemaOption<F> = F extends (...args: infer A) => infer R
  ? { args?: ArgumentSchemas<A>; result?: StandardSchemaV1<unknown, ResultItem<R>> }
  : unknown;

type ArgumentSchemas<A extends unknown[]> = A extends [AsyncIterable<infer V>]
  ? 0 extends 1 & A[0]
    ? readonly StandardSchemaV1[]
    : readonly [StandardSchemaV1<unknown, V>]
  : { readonly [I in keyof A]: StandardSchemaV1<unknown, A[I]> };

type ResultItem<R> = 0 extends 1 & R
  ? unknown
  : [R] extends [AsyncIterable<infer V>]
    ? V
    : Awaited<R>;
