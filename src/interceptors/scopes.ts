import { Code } from '../core/code.js';
import type { Invocation } from '../core/invocation.js';
import { RpcError } from '../core/rpc-error.js';
import type { ServiceDefinition } from '../core/service.js';

/**
 * Settings given at up to three levels: for every call through the interceptor (the top level),
 * for one service, and for one method of a service. Services are keyed by their id as
 * `serviceId()` writes it (`group/name:version`, e.g. `demo.Calculator:1.0.0`).
 *
 * ```ts
 * { max: 256, services: { 'demo.Calculator:1.0.0': { max: 64, methods: { slow: { max: 4 } } } } }
 * ```
 */
export type Scoped<T> = T & {
  services?: Record<string, ServiceScoped<T>>;
};

/** The settings of one service, and of some of its methods. */
export type ServiceScoped<T> = T & {
  methods?: Record<string, T>;
};

/** Where a setting was made; names the limit that refused a call. */
export interface Scope {
  readonly service?: string;
  readonly method?: string;
  /** `all calls`, `service demo.Calculator:1.0.0` or `method demo.Calculator:1.0.0/slow`. */
  readonly label: string;
}

const none: readonly never[] = Object.freeze([]);

/**
 * The state made for each level that sets something (a counter, a token bucket), and for each
 * method the levels that apply to it, outermost first. A call needs room at every one of them.
 */
export class LevelTable<L> {
  private readonly top: L | undefined;
  private readonly services = new Map<string, { level: L | undefined; methods: Map<string, L> }>();
  private readonly memo = new Map<string, Map<string, readonly L[]>>();

  constructor(options: Scoped<object>, what: string, make: (settings: Record<string, unknown>, scope: Scope) => L | undefined) {
    if (options === null || typeof options !== 'object') throw invalidOptions(`${what} options must be an object`);
    this.top = make(options as Record<string, unknown>, { label: 'all calls' });
    for (const [service, settings] of entriesOf(options.services, `${what} services`)) {
      const level = make(settings, { service, label: `service ${service}` });
      const methods = new Map<string, L>();
      for (const [method, methodSettings] of entriesOf((settings as ServiceScoped<object>).methods, `${what} methods of ${service}`)) {
        const methodLevel = make(methodSettings, { service, method, label: `method ${service}/${method}` });
        if (methodLevel !== undefined) methods.set(method, methodLevel);
      }
      this.services.set(service, { level, methods });
    }
  }

  /** The levels that apply to a call of `method` of the service `serviceId`, outermost first. */
  levels(serviceId: string, method: string): readonly L[] {
    let byMethod = this.memo.get(serviceId);
    if (byMethod === undefined) {
      byMethod = new Map();
      this.memo.set(serviceId, byMethod);
    }
    let levels = byMethod.get(method);
    if (levels === undefined) {
      const service = this.services.get(serviceId);
      const found = [this.top, service?.level, service?.methods.get(method)].filter((level): level is L => level !== undefined);
      levels = found.length === 0 ? none : found;
      byMethod.set(method, levels);
    }
    return levels;
  }
}

/** The named settings objects of `value`, checked to be objects. */
export function entriesOf(value: unknown, what: string): Array<[string, Record<string, unknown>]> {
  if (value === undefined) return [];
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidOptions(`${what} must be an object keyed by name`);
  return Object.entries(value as Record<string, unknown>).map(([name, settings]) => {
    if (settings === null || typeof settings !== 'object' || Array.isArray(settings)) {
      throw invalidOptions(`${what}: the settings of ${JSON.stringify(name)} must be an object`);
    }
    return [name, settings as Record<string, unknown>];
  });
}

export function invalidOptions(message: string): RpcError {
  return new RpcError(Code.INVALID_ARGUMENT, message);
}

/** `value` if it is a whole number of at least `min`, else a clear INVALID_ARGUMENT error. */
export function integerAtLeast(value: unknown, min: number, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw invalidOptions(`${what} must be a whole number of at least ${min}, not ${String(value)}`);
  }
  return value;
}

/** `value` if it is a number above zero (`Infinity` allowed when `infinite`). */
export function positiveNumber(value: unknown, what: string, infinite = false): number {
  if (typeof value !== 'number' || !(value > 0) || (!infinite && !Number.isFinite(value))) {
    throw invalidOptions(`${what} must be a number above 0${infinite ? ' (or Infinity)' : ''}, not ${String(value)}`);
  }
  return value;
}

/**
 * `find` for a call's service and method, remembering the answer for the last pair asked. A server
 * builds one chain per method, so each of its chains looks up once; a client's chain serves every
 * method, and a run of calls to one method looks up once per run.
 */
export function lastMethodMemo<T>(find: (call: Invocation) => T): (call: Invocation) => T {
  let service: ServiceDefinition | undefined;
  let method = '';
  let found: T;
  return (call) => {
    if (call.service !== service || call.method !== method) {
      found = find(call);
      service = call.service;
      method = call.method;
    }
    return found;
  };
}
