import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import { peekCurrentCall } from '../core/server-call.js';
import type { MethodOptions, ServiceDefinition } from '../core/service.js';
import type { ServiceInfo } from './messages.js';
import type { PoolRunOptions } from './task.js';

/** What `implementation()` is typed as when no service interface is given. */
export type WorkerImplementation = Record<string, (...args: unknown[]) => Promise<unknown>>;

interface Runner {
  run(method: string, args: unknown[], options?: PoolRunOptions): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * An object whose every method forwards its call to `pool`: a call table takes it like any
 * implementation, and interceptors, deadlines and metadata stay on the main thread. Called by a
 * server, a method forwards the call's signal, deadline and metadata; called directly, none.
 * It answers no `then` (so it is not mistaken for a promise) and nothing `Object.prototype` has.
 */
export function implementationOf<T extends object>(pool: Runner): T & AsyncDisposable {
  const forwarders = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  const target: AsyncDisposable = { [Symbol.asyncDispose]: () => pool.close() };
  const handler: ProxyHandler<AsyncDisposable> = {
    get(object, name) {
      if (typeof name !== 'string' || name === 'then' || name in Object.prototype) return Reflect.get(object, name);
      let forward = forwarders.get(name);
      if (forward === undefined) {
        forward = (...args: unknown[]) => iterableToo(pool.run(name, args, callContext(name)));
        forwarders.set(name, forward);
      }
      return forward;
    },
  };
  return new Proxy(target, handler) as T & AsyncDisposable;
}

/**
 * A streaming method's caller may iterate the result at once (`for await (const x of impl.count(3))`),
 * as with an async generator on the main thread; `await` gives the stream (or value) too.
 */
function iterableToo(result: Promise<unknown>): Promise<unknown> & AsyncIterable<unknown> {
  let iterator: AsyncIterator<unknown> | undefined;
  const stream = async () => {
    const value = await result;
    if (typeof (value as Partial<AsyncIterable<unknown>> | null)?.[Symbol.asyncIterator] !== 'function') {
      throw new RpcError(Code.FAILED_PRECONDITION, 'the result is not a stream; await it instead');
    }
    return (iterator ??= (value as AsyncIterable<unknown>)[Symbol.asyncIterator]());
  };
  return Object.assign(result, {
    [Symbol.asyncIterator]: (): AsyncIterator<unknown> => ({
      next: async () => (await stream()).next(),
      return: async () => {
        // a caller that stops before the call answered still lets the worker's generator end
        const it = await stream().catch(() => undefined);
        return (await it?.return?.()) ?? { done: true, value: undefined };
      },
    }),
  });
}

/** The server call that is invoking `method` right now, if any. */
function callContext(method: string): PoolRunOptions | undefined {
  const call = peekCurrentCall();
  return call?.method === method ? call : undefined;
}

/** The part of a definition a worker can receive: method options without functions. */
export function serviceInfo(definition: ServiceDefinition): ServiceInfo {
  const methods: Array<[string, MethodOptions]> = [];
  for (const [name, options] of definition.methods) {
    const { validate: _validate, args: _args, result: _result, ...cloneable } = options;
    methods.push([name, cloneable]);
  }
  return { id: definition.id, key: { ...definition.key }, methods };
}
