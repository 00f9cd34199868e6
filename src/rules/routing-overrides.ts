import { createBalancer } from '../cluster/balancers/index.js';
import type { CircuitBreakerOptions } from '../cluster/circuit-breaker.js';
import { clusterStrategy } from '../cluster/fault-tolerance/index.js';
import type { RateLimit } from '../interceptors/rate-limit.js';
import type { RoutingOptions } from '../reference.js';
import { RuleError } from './rule-error.js';

/**
 * What a configurator's `parameters` mean to Switchyard. The names are Dubbo's where Dubbo has the
 * setting (`timeout`, `retries`, `loadbalance`, `actives`, `executes`, `tps`, `hash.arguments`, ...),
 * so the same rule steers Dubbo and Switchyard peers alike; the circuit breaker, which Dubbo leaves to
 * Sentinel and others, takes Switchyard's option names under `circuitbreaker.`. A method's own value
 * is written `<method>.<name>` (`sayHello.timeout: 500`), as Dubbo writes method parameters.
 * Parameters not listed here are kept in the overrides and have no effect (see `ignoredParameters`).
 */
export interface MethodOverrides extends Partial<RoutingOptions> {
  /** `timeout`: the call's deadline, in ms from its start. */
  timeoutMs?: number;
  /** `executes`: calls of a method a provider runs at once (`concurrencyLimit`'s `max`); Infinity for no limit. */
  concurrencyLimit?: number;
}

export interface RoutingOverrides extends MethodOverrides {
  /** `weight`: the provider's share of traffic. */
  weight?: number;
  /** `disabled`: the provider takes no calls. */
  disabled?: boolean;
  /** `warmup`: how long (ms) after it starts the provider ramps up to its full weight. */
  warmupMs?: number;
  /** `tps` calls per `tps.interval` (ms, default 60000) at the provider, as a token bucket; false for no limit. */
  rateLimit?: RateLimit | false;
  /** `<method>.<name>` parameters, by method (a null-prototype record). */
  methods?: Record<string, MethodOverrides>;
}

/** What the converters write: the result, plus the parts combined at the end (circuit breaker, tps). */
interface Target extends RoutingOverrides {
  breakerOn?: boolean;
  breaker?: CircuitBreakerOptions;
  tpsCalls?: number;
  tpsIntervalMs?: number;
}
type Converter = (value: string, into: Target) => void;

const breakerRates = ['failureRateThreshold', 'slowCallRateThreshold'] as const;
const breakerNumbers = ['slowCallDurationMs', 'windowMs', 'openMs', 'minimumCalls', 'halfOpenProbes'] as const;

/** Parameters that may also be given per method. */
const methodParameters = new Map<string, Converter>([
  ['timeout', (value, into) => (into.timeoutMs = integer(value, 1))],
  ['retries', (value, into) => (into.retries = Math.max(0, integer(value, -Infinity)))], // Dubbo: below 0 means no retry
  ['loadbalance', (value, into) => (into.loadBalance = balancer(value))],
  ['cluster', (value, into) => (into.cluster = strategy(value))],
  ['forks', (value, into) => (into.forks = orUnlimited(integer(value, -Infinity)))], // Dubbo: 0 or below means every provider
  ['actives', (value, into) => (into.maxActivePerProvider = orUnlimited(integer(value, 0)))],
  ['executes', (value, into) => (into.concurrencyLimit = orUnlimited(integer(value, 0)))],
  ['hash.arguments', (value, into) => (into.hashArguments = value.split(',').map((index) => integer(index.trim(), 0)))],
  ['hash.nodes', (value, into) => (into.virtualNodes = integer(value, 1))],
  ['circuitbreaker', (value, into) => (into.breakerOn = bool(value))],
  ...breakerRates.map((name): [string, Converter] => [`circuitbreaker.${name}`, (value, into) => ((into.breaker ??= {})[name] = rate(value))]),
  ...breakerNumbers.map((name): [string, Converter] => [`circuitbreaker.${name}`, (value, into) => ((into.breaker ??= {})[name] = integer(value, 1))]),
]);

/** Parameters of a provider or a whole service only. */
const serviceParameters = new Map<string, Converter>([
  ['weight', (value, into) => (into.weight = integer(value, 0))],
  ['disabled', (value, into) => (into.disabled = bool(value))],
  ['warmup', (value, into) => (into.warmupMs = integer(value, 0))],
  ['tps', (value, into) => (into.tpsCalls = integer(value, -Infinity))],
  ['tps.interval', (value, into) => (into.tpsIntervalMs = integer(value, 1))],
]);

/** Every parameter name Switchyard acts on (a method's own value is `<method>.<name>` for the first group). */
export const SUPPORTED_PARAMETERS: readonly string[] = [...methodParameters.keys(), ...serviceParameters.keys()];

/**
 * Parameters that configurators use as conditions, not values (Dubbo reads them off the override
 * URL to decide where it applies): a rule that tries to set one is refused.
 */
export const RESERVED_PARAMETERS: readonly string[] = ['application', 'side', 'group', 'version', 'enabled', 'category', 'check', 'dynamic', 'configVersion', 'compatible_config', 'interfaces', 'anyhost', 'providerAddresses'];

/**
 * The settings `params` (the result of `overridesFor`) ask for, converted and checked. Throws
 * `RuleError` for a value that cannot be used (a rule's own values were checked when it was read;
 * a balancer or strategy name is checked again here, against those registered now).
 *
 * ```ts
 * routingOverrides({ timeout: '500', loadbalance: 'leastactive', 'get.retries': '0' })
 * // { timeoutMs: 500, loadBalance: 'leastactive', methods: { get: { retries: 0 } } }
 * ```
 */
export function routingOverrides(params: Readonly<Record<string, string>> | ReadonlyMap<string, string>): RoutingOverrides {
  const out: Target = {};
  for (const [key, value] of entriesOf(params)) {
    const problem = apply(key, value, out);
    if (problem !== undefined) throw new RuleError('configurator', { path: `parameters.${key}` }, problem);
  }
  finish(out);
  for (const method of Object.values(out.methods ?? {})) finish(method);
  return out;
}

/** Combines the parts given by several parameters (the circuit breaker, tps) into their options. */
function finish(target: Target): void {
  const { breakerOn, breaker, tpsCalls, tpsIntervalMs } = target;
  delete target.breakerOn;
  delete target.breaker;
  delete target.tpsCalls;
  delete target.tpsIntervalMs;
  if (breakerOn === false && breaker !== undefined) {
    throw new RuleError('configurator', { path: 'parameters.circuitbreaker' }, 'circuitbreaker is false, yet circuitbreaker.* settings are given');
  }
  if (breakerOn === false) target.circuitBreaker = false;
  else if (breakerOn === true || breaker !== undefined) target.circuitBreaker = { ...breaker };
  if (tpsCalls !== undefined) {
    // Dubbo's TPS filter allows `tps` calls per interval; a token bucket of that size refilled over the interval is the closest.
    target.rateLimit = tpsCalls <= 0 ? false : { ratePerSec: (tpsCalls * 1000) / (tpsIntervalMs ?? 60_000), burst: tpsCalls };
  }
}

/** Why `value` is no valid value of parameter `key`, or undefined when it is (or when Switchyard ignores `key`). */
export function parameterProblem(key: string, value: string): string | undefined {
  if (RESERVED_PARAMETERS.includes(key)) return `${JSON.stringify(key)} is where a rule applies, not a value it can set`;
  return apply(key, value, {});
}

/** The parameters among `params` that Switchyard does not act on (Dubbo's `threads`, `accesslog`, ...). */
export function ignoredParameters(params: Readonly<Record<string, string>> | ReadonlyMap<string, string>): string[] {
  return [...entriesOf(params)].map(([key]) => key).filter((key) => converterOf(key) === undefined);
}

function apply(key: string, value: string, out: Target): string | undefined {
  const found = converterOf(key);
  if (found === undefined) return undefined;
  let into: Target = out;
  if (found.method !== undefined) {
    out.methods ??= Object.create(null) as Record<string, MethodOverrides>;
    into = out.methods[found.method] ??= {};
  }
  try {
    found.convert(value.trim(), into);
  } catch (error) {
    return `${JSON.stringify(value)} is not a valid ${key}: ${(error as Error).message}`;
  }
  return undefined;
}

function converterOf(key: string): { method?: string; convert: Converter } | undefined {
  const own = methodParameters.get(key) ?? serviceParameters.get(key);
  if (own !== undefined) return { convert: own };
  const dot = key.indexOf('.');
  const method = key.slice(0, dot);
  const convert = dot > 0 && /^[A-Za-z_$][\w$]*$/.test(method) && !['circuitbreaker', 'hash', 'tps'].includes(method) ? methodParameters.get(key.slice(dot + 1)) : undefined;
  return convert === undefined ? undefined : { method, convert };
}

function entriesOf(params: Readonly<Record<string, string>> | ReadonlyMap<string, string>): Iterable<[string, string]> {
  return params instanceof Map ? (params as ReadonlyMap<string, string>).entries() : Object.entries(params);
}

function integer(text: string, min: number): number {
  if (!/^-?\d{1,15}$/.test(text)) throw new Error('expected a whole number');
  const value = Number(text);
  if (value < min) throw new Error(`expected at least ${min}`);
  return value;
}

function rate(text: string): number {
  const value = Number(text);
  if (!/^(0|1)?(\.\d+)?$/.test(text) || text === '' || !(value > 0 && value <= 1)) throw new Error('expected a share above 0 and at most 1, such as 0.5');
  return value;
}

function bool(text: string): boolean {
  if (!/^(true|false)$/i.test(text)) throw new Error('expected true or false');
  return text.toLowerCase() === 'true';
}

function orUnlimited(value: number): number {
  return value <= 0 ? Infinity : value;
}

function balancer(name: string): string {
  createBalancer(name); // throws INVALID_ARGUMENT listing the registered names
  return name;
}

function strategy(name: string): string {
  clusterStrategy(name);
  return name;
}
