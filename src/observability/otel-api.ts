import { createRequire } from 'node:module';
import type * as Api from '@opentelemetry/api';

/*
 * The OpenTelemetry API is loaded only once something in the process has registered with it (an
 * SDK's tracer or meter provider), or a provider is given to Switchyard directly. Merely loading it
 * made the small call a third slower in the bench (client CPU per call up from about 4.5 to 8 µs
 * on the 2-core machine): its few hundred kilobytes of code and objects tip V8 into major
 * collections that the call path does not otherwise need within the run (`--trace-gc`: 5
 * mark-compacts in 200,000 calls against none). A process that uses OpenTelemetry has paid that
 * already; one that does not, pays nothing.
 *
 * Every copy of API 1.x in a process keeps what is registered in one record on the global object,
 * under this key, with a field per kind (`trace`, `metrics`, `propagation`, `context`). Reading it
 * needs no API; the API is loaded (it is CommonJS, so synchronously) when a field is there.
 */
const GLOBAL_KEY = Symbol.for('opentelemetry.js.api.1');

type Registered = Partial<Record<'trace' | 'metrics' | 'propagation' | 'context', unknown>>;
let record: Registered | undefined;
let api: typeof Api | undefined;

/*
 * Until the record exists, looking for it is a miss on the global object, per call and per hook: a
 * few percent of a small call (measured with `npm run bench`). So, when no copy of the API has made
 * the record yet, this module puts an accessor in its place, through which the API's own
 * assignment of the record is seen; nothing is looked up per call after that. Where that cannot
 * be done (another module put something there first), the record is looked up per call.
 */
const watching = watchRecord();

function watchRecord(): boolean {
  const holder = globalThis as Record<symbol, Registered | undefined>;
  if (Object.getOwnPropertyDescriptor(holder, GLOBAL_KEY) !== undefined || !Object.isExtensible(holder)) return false;
  let value: Registered | undefined;
  Object.defineProperty(holder, GLOBAL_KEY, {
    configurable: true,
    enumerable: false,
    get: () => value,
    set: (next: Registered | undefined) => {
      value = next;
      record = next;
    },
  });
  return true;
}

/** Whether an SDK has registered a global of this kind with the OpenTelemetry API (`trace`, `metrics`). */
export function otelRegistered(kind: keyof Registered): boolean {
  return otelInUse() && record?.[kind] !== undefined;
}

/** Whether anything has registered with the OpenTelemetry API in this process. */
export function otelInUse(): boolean {
  if (record !== undefined) return true;
  if (watching) return false;
  // The record outlives `disable()`, which only deletes its fields: once found, it is kept.
  record = (globalThis as Record<symbol, Registered | undefined>)[GLOBAL_KEY];
  return record !== undefined;
}

/** The OpenTelemetry API, loaded on first use. */
export function otelApi(): typeof Api {
  return (api ??= createRequire(import.meta.url)('@opentelemetry/api') as typeof Api);
}
