/**
 * Typed stubs of services, one implementation for the Node client (`createClient`) and the browser
 * client (`createHttpClient`): each declared method becomes a function that sends a call, and
 * `.with(options)` gives the same function with options of its own. What sends a call, and what
 * the options mean, is the client's business; this module only shapes the stub.
 */
import { returnsStream, type MethodNames, type ServiceDefinition } from './service.js';

/**
 * What a proxy method returns for an implementation that returns `R`: an `AsyncIterable` only when
 * `R` is one (a server- or bidi-streaming method, which `defineService` then requires to be
 * declared so); a promise of the result otherwise, also for `any`, `unknown` and unions.
 */
export type ProxyResult<R> = 0 extends 1 & R
  ? Promise<R> // any
  : [R] extends [never]
    ? Promise<never>
    : [R] extends [AsyncIterable<infer V>]
      ? AsyncIterable<V>
      : Promise<Awaited<R>>;

/**
 * The signature of a proxy method for a method typed `F`. A method taking an `AsyncIterable` of
 * requests (client or bidi streaming) also takes a plain `Iterable` (an array, say) from a caller.
 */
export type ProxyCall<F> = F extends (...args: infer A) => infer R ? (...args: ProxyArgs<A>) => ProxyResult<R> : never;

type ProxyArgs<A> = A extends [AsyncIterable<infer V>] ? (0 extends 1 & V ? A : [AsyncIterable<V> | Iterable<V>]) : A;

/** A remote method taking call options `O`: call it like the local one, or `.with(options)` first. */
export type ProxyMethodOf<F, O> = ProxyCall<F> & { with(options: O): ProxyCall<F> };

/** The typed stub of a service, exactly its declared methods, with call options `O`. */
export type ServiceProxyOf<T, O> = { readonly [K in MethodNames<T>]: ProxyMethodOf<T[K], O> };

/** Sends calls of one method with one set of options; a client makes one per method and options, not per call. */
export type MethodSender = (args: unknown[]) => Promise<unknown>;

/** How a client sends the calls of a stub whose options are `B`, and what `.with(O)` makes of them. */
export interface ProxyBinding<B, O> {
  sender(method: string, options: B): MethodSender;
  merge(base: B, over: O): B;
}

/**
 * The stub of `definition` for calls made with `options`. Methods that answer with a stream
 * (server and bidi streaming) return an `AsyncIterable` at once; the others return the call's promise, which reports a `for await` over
 * it as a mistake (a TypeError naming the method) and marks the call observed, so that the call's
 * own failure cannot escape as an unhandled rejection behind that error.
 */
export function buildProxy<T, B, O>(definition: ServiceDefinition<T>, options: B, binding: ProxyBinding<B, O>): ServiceProxyOf<T, O> {
  const stub = Object.create(null) as Record<string, unknown>;
  for (const [method, methodOptions] of definition.methods) {
    const streaming = returnsStream(methodOptions);
    const misuse = iterationMistake(method);
    const bind = (bound: B) => {
      const send = binding.sender(method, bound);
      return streaming ? (...args: unknown[]) => streamOf(send(args)) : (...args: unknown[]) => unary(send(args), misuse);
    };
    const plain = bind(options);
    Object.defineProperty(plain, 'with', { value: (over: O) => bind(binding.merge(options, over)) });
    Object.defineProperty(plain, 'name', { value: method });
    stub[method] = plain;
  }
  return Object.freeze(stub) as ServiceProxyOf<T, O>;
}

type Iterated = Promise<unknown> & { [Symbol.asyncIterator]?: unknown };

/**
 * A unary call's promise, made to answer `for await` with `misuse`. One store of a function made
 * per method, not per call: the cheapest way to be seen by the iteration protocol.
 */
function unary(result: Promise<unknown>, misuse: () => never): Promise<unknown> {
  try {
    (result as Iterated)[Symbol.asyncIterator] = misuse;
  } catch {
    // an interceptor handed back a frozen promise: it is returned as it is
  }
  return result;
}

/** What `for await` over a unary call of `method` runs: observes the call, then throws why it cannot iterate. */
function iterationMistake(method: string): () => never {
  return function (this: unknown): never {
    Promise.resolve(this).catch(() => undefined);
    throw new TypeError(`${method} is not a streaming method: await its result instead of iterating it`);
  };
}

/**
 * The stream a streaming call resolves to, offered at once so that a proxy method can return an
 * `AsyncIterable` like the implementation's; the first `next()` waits for the call to start.
 */
export function streamOf(started: Promise<unknown>): AsyncIterable<unknown> {
  started.catch(() => {}); // reported through next(), not as an unhandled rejection
  return {
    [Symbol.asyncIterator](): AsyncIterator<unknown> {
      let inner: AsyncIterator<unknown> | undefined;
      const open = async () => (inner ??= ((await started) as AsyncIterable<unknown>)[Symbol.asyncIterator]());
      return {
        next: async () => (await open()).next(),
        return: async (value?: unknown) => {
          const iterator = inner ?? (await started.then((stream) => (stream as AsyncIterable<unknown>)[Symbol.asyncIterator](), () => undefined));
          return (await iterator?.return?.(value)) ?? { done: true, value };
        },
      };
    },
  };
}
