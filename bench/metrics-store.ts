/**
 * `npx tsx bench/metrics-store.ts`: what recording one call costs in the metrics store of
 * src/observability/metrics/ and in prom-client, to decide (and to check again when either
 * changes) whether the store earns its keep over the library.
 *
 * Per call, each setup records what the server records: the in-flight gauge up, the calls counter
 * (labels service, method, code) up, the duration histogram (labels service, method) observed, the
 * gauge down. One call in eight ends UNAVAILABLE, the rest OK; durations cycle through 1024 values
 * spread from 0.2 ms to 2 s, so the histogram lands in every bucket.
 *
 * - `prom-client children`: `.labels(...)` children bound once per code, prom-client's fastest way;
 * - `prom-client label objects`: label objects made once, passed on every inc and observe;
 * - `store series`: this project's series bound once per method and code, recorded directly;
 * - `serverMetrics observer`: the whole server observer, `serverCall(entry, call).end(error)`: the
 *   store plus the probe object and the two clock reads per call.
 *
 * Setups run in rounds, their order rotated each round; a warm-up round is not counted. The table
 * gives each setup's median ns per call over the rounds and the lowest–highest of them.
 *
 * Options: --calls N (per round, default 2000000), --rounds N (default 7).
 */
import { parseArgs } from 'node:util';
import client from 'prom-client';
import { Code } from '../src/core/code.js';
import type { MethodEntry } from '../src/core/call-table.js';
import { RpcError } from '../src/core/rpc-error.js';
import { ServerCall } from '../src/core/server-call.js';
import { defineService } from '../src/core/service.js';
import { MetricsRegistry } from '../src/observability/metrics/registry.js';
import { serverMetrics } from '../src/observability/metrics/server-metrics.js';
import { round } from './stats.js';

const { values: options } = parseArgs({ options: { calls: { type: 'string', default: '2000000' }, rounds: { type: 'string', default: '7' } } });
const CALLS = Number(options.calls);
const ROUNDS = Number(options.rounds);

const SERVICE = 'demo.Calculator';
const METHOD = 'add';
const failure = new RpcError(Code.UNAVAILABLE, 'provider went away');
const durations = Float64Array.from({ length: 1024 }, (_, i) => 0.0002 * 10_000 ** ((i * 397) % 1024 / 1023));

type Setup = { name: string; run(calls: number): void; recorded(): number | Promise<number> };

function promClientChildren(): Setup {
  const registry = new client.Registry();
  const calls = new client.Counter({ name: 'calls_total', help: 'calls', labelNames: ['service', 'method', 'code'], registers: [registry] });
  const duration = new client.Histogram({ name: 'call_duration_seconds', help: 'duration', labelNames: ['service', 'method'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry] });
  const inFlight = new client.Gauge({ name: 'calls_in_flight', help: 'in flight', labelNames: ['service', 'method'], registers: [registry] });
  const ok = calls.labels(SERVICE, METHOD, 'OK');
  const unavailable = calls.labels(SERVICE, METHOD, 'UNAVAILABLE');
  const observed = duration.labels(SERVICE, METHOD);
  const flying = inFlight.labels(SERVICE, METHOD);
  return {
    name: 'prom-client children',
    run(n) {
      for (let i = 0; i < n; i++) {
        flying.inc();
        ((i & 7) === 7 ? unavailable : ok).inc();
        observed.observe(durations[i & 1023]!);
        flying.dec();
      }
    },
    recorded: () => countOf(registry),
  };
}

function promClientLabelObjects(): Setup {
  const registry = new client.Registry();
  const calls = new client.Counter({ name: 'calls_total', help: 'calls', labelNames: ['service', 'method', 'code'], registers: [registry] });
  const duration = new client.Histogram({ name: 'call_duration_seconds', help: 'duration', labelNames: ['service', 'method'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry] });
  const inFlight = new client.Gauge({ name: 'calls_in_flight', help: 'in flight', labelNames: ['service', 'method'], registers: [registry] });
  const ok = { service: SERVICE, method: METHOD, code: 'OK' };
  const unavailable = { service: SERVICE, method: METHOD, code: 'UNAVAILABLE' };
  const method = { service: SERVICE, method: METHOD };
  return {
    name: 'prom-client label objects',
    run(n) {
      for (let i = 0; i < n; i++) {
        inFlight.inc(method);
        calls.inc((i & 7) === 7 ? unavailable : ok);
        duration.observe(method, durations[i & 1023]!);
        inFlight.dec(method);
      }
    },
    recorded: () => countOf(registry),
  };
}

function storeSeries(): Setup {
  const registry = new MetricsRegistry();
  const calls = registry.counter('calls_total', 'calls', ['service', 'method', 'code']);
  const ok = calls.labels(SERVICE, METHOD, 'OK');
  const unavailable = calls.labels(SERVICE, METHOD, 'UNAVAILABLE');
  const observed = registry.histogram('call_duration_seconds', 'duration', ['service', 'method']).labels(SERVICE, METHOD);
  const flying = registry.gauge('calls_in_flight', 'in flight', ['service', 'method']).labels(SERVICE, METHOD);
  return {
    name: 'store series',
    run(n) {
      for (let i = 0; i < n; i++) {
        flying.inc();
        ((i & 7) === 7 ? unavailable : ok).inc();
        observed.observe(durations[i & 1023]!);
        flying.dec();
      }
    },
    recorded: () => ok.value + unavailable.value,
  };
}

function serverObserver(): Setup {
  const registry = new MetricsRegistry();
  const observer = serverMetrics(registry);
  const Calculator = defineService<{ add(a: number, b: number): Promise<number> }>(SERVICE, { methods: { add: {} } });
  const entry: MethodEntry = { service: Calculator, method: METHOD, options: {}, handler: async () => 3 };
  const call = new ServerCall(Calculator, METHOD, [1, 2], undefined, undefined, false);
  return {
    name: 'serverMetrics observer',
    run(n) {
      for (let i = 0; i < n; i++) observer.serverCall(entry, call)!.end((i & 7) === 7 ? failure : undefined);
    },
    recorded: () => {
      const found = registry.snapshot().metrics.find((metric) => metric.name === 'switchyard_server_calls_total')!;
      return found.series.reduce((sum, series) => sum + ('value' in series ? series.value : 0), 0);
    },
  };
}

/** The calls counted by a prom-client registry, read back so the work cannot be skipped. */
async function countOf(registry: client.Registry): Promise<number> {
  const read = await (registry.getSingleMetric('calls_total') as client.Counter).get();
  return read.values.reduce((sum, value) => sum + value.value, 0);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

const setups = [promClientChildren(), promClientLabelObjects(), storeSeries(), serverObserver()];
const timings = new Map<string, number[]>(setups.map((setup) => [setup.name, []]));
for (let round = 0; round <= ROUNDS; round++) {
  for (let k = 0; k < setups.length; k++) {
    const setup = setups[(k + round) % setups.length]!;
    const start = process.hrtime.bigint();
    setup.run(CALLS);
    const ns = Number(process.hrtime.bigint() - start) / CALLS;
    if (round > 0) timings.get(setup.name)!.push(ns); // round 0 warms up
  }
}

for (const setup of setups) {
  const recorded = await setup.recorded();
  if (recorded !== CALLS * (ROUNDS + 1)) throw new Error(`${setup.name} recorded ${recorded} calls, not ${CALLS * (ROUNDS + 1)}`);
}

const store = median(timings.get('store series')!);
console.log(`Node ${process.version}, ${CALLS} calls per round, ${ROUNDS} rounds (median, lowest–highest), ns per call:`);
for (const setup of setups) {
  const ns = timings.get(setup.name)!;
  const line = `  ${setup.name.padEnd(28)} ${String(round(median(ns))).padStart(7)}  (${round(Math.min(...ns))}–${round(Math.max(...ns))})`;
  console.log(`${line}   ${round(median(ns) / store)}x the store`);
}
