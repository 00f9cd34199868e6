import { methodChecks, type MethodChecks } from '../schema/method-checks.js';
import { Code } from './code.js';
import { chain, type Handler, type Interceptor } from './invocation.js';
import { silentLogger, type Logger } from './logger.js';
import type { ServerObserver } from './observer.js';
import { RpcError, errorMessage } from './rpc-error.js';
import { ServerCall, runAsCurrent, streamAsCurrent } from './server-call.js';
import { returnsStream, type MethodOptions, type ServiceDefinition } from './service.js';
import { isAsyncIterable } from './async-iterable.js';

/** One callable method: its definition and the handler chain that serves it. */
export interface MethodEntry {
  readonly service: ServiceDefinition;
  readonly method: string;
  readonly options: Readonly<MethodOptions>;
  /** The chain for this method; it always returns a promise, even when an interceptor throws. */
  readonly handler: Handler;
  /** Who watches this method's calls (the server's tracing and metrics); undefined for none. */
  readonly observer?: ServerObserver;
}

/**
 * What a server can be asked to run: service id → method → handler. Only methods declared in a
 * service's definition are entered, so nothing else on an implementation object can be reached.
 */
export class CallTable {
  private readonly services = new Map<string, Map<string, MethodEntry>>();
  /** Services the server provides by itself (health, introspection); one the user provides under the same id replaces it. */
  private readonly builtins = new Set<string>();
  /** Resumable streams being served: a server that drains ends them, so that callers resume elsewhere at once. */
  private readonly resumable = new Set<ServerCall>();
  private draining = false;
  /** Counts changes (services provided): what a transport derived from the table is valid while it stays. */
  generation = 0;

  /**
   * `observer` watches every call of every method provided from now on; `logger` hears of results
   * that break their method's schema.
   */
  constructor(private readonly observer?: ServerObserver, private readonly logger: Logger = silentLogger) {}

  provide<T>(definition: ServiceDefinition<T>, implementation: T, interceptors: readonly Interceptor[], options?: { builtin?: boolean }): void {
    if (this.services.has(definition.id) && !this.builtins.has(definition.id)) {
      throw new RpcError(Code.FAILED_PRECONDITION, `service ${definition.id} is already provided`);
    }
    const methods = new Map<string, MethodEntry>();
    for (const [method, options] of definition.methods) {
      const fn = (implementation as Record<string, unknown>)[method];
      if (typeof fn !== 'function') {
        throw new RpcError(Code.INVALID_ARGUMENT, `implementation of ${definition.id} lacks method ${method}`);
      }
      // Decided once per method: a method without schemas runs exactly as if schemas did not exist.
      const checks = methodChecks(definition.id, method, options, this.logger);
      const run: Handler = checks !== undefined ? this.checkedRun(definition as ServiceDefinition, method, options, fn as (...args: unknown[]) => unknown, implementation, checks) : (call) => {
        // A synchronous throw reaches interceptors as a rejection like any other failure. Not an
        // async function: that would wrap the implementation's own promise in a second one, and
        // adopting it costs two more turns of the microtask queue on every call.
        try {
          if (options.validate !== undefined) validate(options.validate, call.args, definition.id, method);
          if (options.resumable !== undefined && call instanceof ServerCall) this.track(call);
          const result = runAsCurrent(call, fn as (...args: unknown[]) => unknown, implementation, call.args);
          if (result instanceof Promise) return result;
          return Promise.resolve(returnsStream(options) && isAsyncIterable(result) ? streamAsCurrent(call, result) : result);
        } catch (error) {
          return Promise.reject(error);
        }
      };
      methods.set(method, { service: definition as ServiceDefinition, method, options, handler: rejectingThrows(chain(interceptors, run)), observer: this.observer });
    }
    this.services.set(definition.id, methods);
    this.generation++;
    if (options?.builtin === true) this.builtins.add(definition.id);
    else this.builtins.delete(definition.id);
  }

  /**
   * The innermost handler of a method with schemas: `validate` first (a `.proto` service's hook
   * turns 64-bit integers into bigints there), then the schemas, whose outputs replace the
   * arguments; a synchronous schema is not waited for. Then the implementation, and its result
   * checked when the method asks for it.
   */
  private checkedRun(definition: ServiceDefinition, method: string, options: Readonly<MethodOptions>, fn: (...args: unknown[]) => unknown, implementation: unknown, checks: MethodChecks): Handler {
    const streaming = returnsStream(options);
    return async (call) => {
      if (options.validate !== undefined) validate(options.validate, call.args, definition.id, method);
      const checking = checks.args(call.args);
      if (checking !== undefined) await checking;
      if (options.resumable !== undefined && call instanceof ServerCall) this.track(call);
      const result = runAsCurrent(call, fn, implementation, call.args);
      if (streaming) return isAsyncIterable(result) ? checks.stream(streamAsCurrent(call, result)) : result;
      return checks.result(await result);
    };
  }

  /**
   * Ends every resumable stream being served with `UNAVAILABLE`, for a server that drains: its
   * callers resume on another provider from their last item instead of waiting for the drain's end.
   * A stream ends when it next moves (its next item, or its reader's next grant).
   */
  endResumableStreams(): void {
    this.draining = true;
    for (const call of this.resumable) call.abort(drainingServer());
  }

  private track(call: ServerCall): void {
    // One that arrives while the server drains is sent on at once, before its first item.
    if (this.draining) call.abort(drainingServer());
    this.resumable.add(call);
    call.whenFinished(() => this.resumable.delete(call));
  }

  /** Whether the server provides `serviceId` by itself, for listings that show only the user's services. */
  isBuiltin(serviceId: string): boolean {
    return this.builtins.has(serviceId);
  }

  /** Finds a method, or says precisely what of the request was not found. */
  lookup(serviceId: string | undefined, method: string | undefined): MethodEntry | RpcError {
    if (serviceId === undefined || method === undefined) {
      return new RpcError(Code.INVALID_ARGUMENT, 'request names no service or method');
    }
    const methods = this.services.get(serviceId);
    if (methods === undefined) return this.serviceNotFound(serviceId);
    const entry = methods.get(method);
    if (entry === undefined) {
      return new RpcError(Code.UNIMPLEMENTED, `method ${JSON.stringify(method)} is not declared by service ${serviceId}`);
    }
    return entry;
  }

  get serviceIds(): string[] {
    return [...this.services.keys()];
  }

  /** Every callable method, for transports that list or route them (HTTP paths, OpenAPI). */
  *entries(): IterableIterator<MethodEntry> {
    for (const methods of this.services.values()) yield* methods.values();
  }

  private serviceNotFound(serviceId: string): RpcError {
    const name = serviceId.replace(/^[^/]*\//, '').replace(/:.*$/, '');
    const sameName = [...this.services.keys()].filter((id) => id.replace(/^[^/]*\//, '').replace(/:.*$/, '') === name);
    const hint = sameName.length > 0 ? ` (this server provides ${sameName.join(', ')})` : '';
    return new RpcError(Code.NOT_FOUND, `service ${JSON.stringify(serviceId)} is not provided here${hint}`);
  }
}

function drainingServer(): RpcError {
  return new RpcError(Code.UNAVAILABLE, 'the server is draining: resume the stream on another provider');
}

function validate(check: (args: unknown[]) => void, args: unknown[], serviceId: string, method: string): void {
  try {
    check(args);
  } catch (error) {
    if (error instanceof RpcError) throw error;
    throw new RpcError(Code.INVALID_ARGUMENT, `invalid arguments for ${serviceId}.${method}: ${errorMessage(error)}`);
  }
}


/** A handler whose synchronous throws (from a non-async interceptor) become rejections. */
function rejectingThrows(handler: Handler): Handler {
  return (call) => {
    try {
      return handler(call);
    } catch (error) {
      return Promise.reject(error);
    }
  };
}
