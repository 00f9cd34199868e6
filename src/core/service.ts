import type { StandardSchemaV1 } from '@standard-schema/spec';
import { checkSchemaOptions } from '../schema/definition.js';
import type { SchemaMethods, SchemaOption, SchemaServiceOptions, ServiceFromSchemas } from '../schema/infer.js';
import { Code } from './code.js';
import type { ResumableOptions } from './resumable.js';
import { RpcError } from './rpc-error.js';

/** Names a service: several versions and groups of one name can be served side by side. */
export interface ServiceKey {
  readonly name: string;
  readonly version?: string;
  readonly group?: string;
}

/**
 * Method options that only one transport understands, each under the transport's URL scheme (a
 * resource-style route, say). They sit in the definition beside the transport-neutral options, so
 * one definition serves every transport and each reads only its own entry. A transport declares its
 * entry from its own folder (in its `method-options.ts`):
 *
 * ```ts
 * declare module '../../core/service.js' {
 *   interface TransportMethodOptions { quic?: QuicMethodOptions }
 * }
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- each transport adds its entry
export interface TransportMethodOptions {}

/** Options of one method; call options override them, and they override client defaults. */
export interface MethodOptions extends TransportMethodOptions {
  /** Default deadline of a call, counted from when it starts. */
  timeoutMs?: number;
  /** Calls send no response and resolve as soon as the request is written. */
  oneWay?: boolean;
  /** The method may run more than once for one call without harm, so it may be retried. */
  idempotent?: boolean;
  /** Checks the decoded arguments on the server before the implementation runs; throw to refuse. */
  validate?: (args: unknown[]) => void;
  /**
   * Schemas of the arguments, one per parameter, in any library that implements Standard Schema
   * (zod, valibot, arktype, ...). The server checks the arguments against them before the
   * implementation runs, on every transport, and refuses a mismatch with INVALID_ARGUMENT (the
   * issues in its details); the implementation gets the schemas' outputs. For a method that takes
   * a stream, the one schema checks each item as the implementation reads it. See docs/schemas.md.
   */
  args?: readonly StandardSchemaV1[];
  /** Schema of the result (of each item, for a method that returns a stream). */
  result?: StandardSchemaV1;
  /**
   * Check results against `result` on the server before they are sent; one that does not match
   * is the server's fault: the caller gets INTERNAL and the server logs the issues. Default false.
   */
  checkResult?: boolean;
  /**
   * How the method streams (see docs/streams.md):
   * - `'server'`: the implementation returns an `AsyncIterable` (an async generator, say); the
   *   caller's proxy method returns one too, and iterates the values as they come.
   * - `'client'`: the method takes one argument, an `AsyncIterable` of requests, and answers once.
   * - `'bidi'`: the method takes an `AsyncIterable` of requests and returns one of responses.
   *
   * Items flow under flow control in both directions: a producer is pulled only while its reader
   * takes what it sent.
   */
  stream?: StreamKind;
  /**
   * Server streams only: the stream survives a dropped connection or a provider that drains. The
   * caller keeps the id of the last item it got and, on a break, calls again (on another provider
   * if need be) from there; the implementation reads that id with `resumeAfter()`. See
   * docs/streams.md, "Resumable streams".
   */
  resumable?: ResumableOptions;
}

export type StreamKind = 'server' | 'client' | 'bidi';

/** Whether the method answers with a stream (`server` and `bidi`). */
export function returnsStream(options: Readonly<MethodOptions> | undefined): boolean {
  const kind = options?.stream;
  return kind === 'server' || kind === 'bidi';
}

/** Whether the method takes a stream of requests as its one argument (`client` and `bidi`). */
export function takesStream(options: Readonly<MethodOptions> | undefined): boolean {
  const kind = options?.stream;
  return kind === 'client' || kind === 'bidi';
}

/** The names of the methods of `T` that can be called remotely. */
export type MethodNames<T> = {
  [K in keyof T]: K extends string ? (T[K] extends (...args: never[]) => unknown ? K : never) : never;
}[keyof T];

/** A service made by `defineService`: its key and its call table. Nothing outside `methods` is callable. */
export interface ServiceDefinition<T = unknown> {
  readonly key: ServiceKey;
  /** `group/name:version`, the string form of the key. */
  readonly id: string;
  readonly methods: ReadonlyMap<string, Readonly<MethodOptions>>;
  /** Carries `T` for type inference only; never set. */
  readonly __type?: T;
}

/**
 * What `stream` must be for a method typed `F`, so that a definition cannot disagree with its
 * interface about how requests and results travel: `'client'` or `'bidi'` when its one parameter
 * is an `AsyncIterable`, `'server'` when only its result is one, absent otherwise. A type that is
 * `any` or `unknown`, or a union of both kinds, leaves it free.
 */
type StreamOption<F> = F extends (...args: infer A) => infer R
  ? unknown extends R
    ? unknown
    : A extends [infer P]
      ? 0 extends 1 & P
        ? unknown
        : [P] extends [AsyncIterable<unknown>]
          ? ResultStreamOption<R, 'bidi', 'client'>
          : ResultStreamOption<R, 'server', never>
      : ResultStreamOption<R, 'server', never>
  : unknown;

type ResultStreamOption<R, IfStream extends StreamKind, IfNot extends StreamKind> = [R] extends [AsyncIterable<unknown>]
  ? { /** Required: the method returns an `AsyncIterable`. */ stream: IfStream }
  : [Extract<R, AsyncIterable<unknown>>] extends [never]
    ? [IfNot] extends [never]
      ? { /** Not allowed: the method neither takes nor returns an `AsyncIterable`. */ stream?: never }
      : { /** Required: the method takes an `AsyncIterable`. */ stream: IfNot }
    : unknown;

/**
 * The options of method `F` in a definition: `MethodOptions`, with `stream` as its return type
 * demands, and schemas whose outputs fit its parameters and result.
 */
export type MethodOptionsOf<F> = MethodOptions & StreamOption<F> & SchemaOption<F>;

export interface DefineServiceOptions<T> {
  version?: string;
  group?: string;
  /**
   * Every remote method of `T` with its options (`{}` for the defaults). Methods that take or
   * return an `AsyncIterable` must say how they stream (`stream: 'server' | 'client' | 'bidi'`);
   * the others must not.
   */
  methods: { [K in MethodNames<T>]: MethodOptionsOf<T[K]> };
}

const validName = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/;
const validMethod = /^[A-Za-z_$][\w$]*$/;
const validTag = /^[\w.\-+*]*$/;
// Names that every object answers to; a call table must never resolve them.
const forbiddenMethods = new Set(['constructor', '__proto__', 'prototype', 'toString', 'valueOf',
  'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString', '__defineGetter__',
  '__defineSetter__', '__lookupGetter__', '__lookupSetter__', 'then']);

/**
 * Declares a service: its name, version, group and the methods callers may invoke. Without a type
 * argument, the service's type comes from the methods' schemas (see docs/schemas.md):
 *
 * ```ts
 * const CalculatorService = defineService('demo.Calculator', {
 *   methods: { add: { args: [z.number(), z.number()], result: z.number() } },
 * }); // ServiceDefinition<{ add(a: number, b: number): Promise<number> }>
 * ```
 */
// `S` is never given nor inferred, so it is its constraint: the type read from the schemas. Being a
// second type parameter, it keeps this signature out of `defineService<Interface>(...)`, which
// stays exactly the signature below.
export function defineService<const M extends SchemaMethods, S extends ServiceFromSchemas<M>>(name: string, options: SchemaServiceOptions<M>): ServiceDefinition<S>;
/**
 * Declares a service of interface `T`: its name, version, group and the methods callers may
 * invoke. Schemas given to its methods must fit the interface.
 *
 * ```ts
 * interface Calculator { add(a: number, b: number): Promise<number> }
 * const CalculatorService = defineService<Calculator>('demo.Calculator', { version: '1.0.0', methods: { add: {} } });
 * ```
 */
export function defineService<T>(name: string, options: DefineServiceOptions<T>): ServiceDefinition<T>;
export function defineService(name: string, options: DefineServiceOptions<unknown> | SchemaServiceOptions<SchemaMethods>): ServiceDefinition {
  if (!validName.test(name)) throw new RpcError(Code.INVALID_ARGUMENT, `invalid service name ${JSON.stringify(name)}`);
  const key: ServiceKey = { name, version: options.version, group: options.group };
  for (const tag of [key.version, key.group]) {
    if (tag !== undefined && !validTag.test(tag)) {
      throw new RpcError(Code.INVALID_ARGUMENT, `invalid version or group ${JSON.stringify(tag)}`);
    }
  }
  const methods = new Map<string, Readonly<MethodOptions>>();
  for (const [method, opts] of Object.entries(options.methods as Record<string, MethodOptions>)) {
    if (!validMethod.test(method) || forbiddenMethods.has(method)) {
      throw new RpcError(Code.INVALID_ARGUMENT, `${JSON.stringify(method)} cannot be a remote method`);
    }
    if (opts.stream !== undefined && opts.stream !== 'server' && opts.stream !== 'client' && opts.stream !== 'bidi') {
      throw new RpcError(Code.INVALID_ARGUMENT, `stream of ${method} must be 'server', 'client' or 'bidi', not ${JSON.stringify(opts.stream)}`);
    }
    if (opts.resumable !== undefined && (opts.stream !== 'server' || typeof opts.resumable?.idOf !== 'function')) {
      throw new RpcError(Code.INVALID_ARGUMENT, `${method} can be resumable only as a server stream with resumable: { idOf(item) }`);
    }
    if (opts.stream !== undefined && opts.oneWay === true) {
      throw new RpcError(Code.INVALID_ARGUMENT, `${method} cannot both stream and be one-way`);
    }
    checkSchemaOptions(method, opts);
    methods.set(method, Object.freeze({ ...opts }));
  }
  return Object.freeze({ key: Object.freeze(key), id: serviceId(key), methods: new ReadonlyMethods(methods) });
}

/** The call table of a definition; it has no way to change, so no method can be added later. */
class ReadonlyMethods implements ReadonlyMap<string, Readonly<MethodOptions>> {
  readonly #map: Map<string, Readonly<MethodOptions>>;

  constructor(map: Map<string, Readonly<MethodOptions>>) {
    this.#map = map;
    Object.freeze(this);
  }

  get size(): number {
    return this.#map.size;
  }

  get(method: string): Readonly<MethodOptions> | undefined {
    return this.#map.get(method);
  }

  has(method: string): boolean {
    return this.#map.has(method);
  }

  forEach(fn: (value: Readonly<MethodOptions>, key: string, map: ReadonlyMap<string, Readonly<MethodOptions>>) => void): void {
    this.#map.forEach((value, key) => fn(value, key, this));
  }

  keys(): MapIterator<string> {
    return this.#map.keys();
  }

  values(): MapIterator<Readonly<MethodOptions>> {
    return this.#map.values();
  }

  entries(): MapIterator<[string, Readonly<MethodOptions>]> {
    return this.#map.entries();
  }

  [Symbol.iterator](): MapIterator<[string, Readonly<MethodOptions>]> {
    return this.#map.entries();
  }
}

/** `group/name:version`, with the parts that are absent left out (Dubbo's service key form). */
export function serviceId(key: ServiceKey): string {
  const group = key.group ? `${key.group}/` : '';
  const version = key.version ? `:${key.version}` : '';
  return `${group}${key.name}${version}`;
}
