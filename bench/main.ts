/**
 * `npm run bench`: every system × workload in fresh server and client processes over loopback,
 * then a table and the ratios of Switchyard to the baselines from this same run.
 * See bench/README.md for what is measured and how to read it.
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bundle, bundledPath } from './bundle.js';
import { Child, killChildren, killChildrenOnExit } from './child.js';
import { round, table } from './stats.js';
import { systemNames } from './systems/index.js';
import { findWorkload, workloads, type Workload } from './workloads.js';
import type { Report } from './worker.js';

// Children run worker.ts bundled, with plain node: see bundle.ts.
const WORKER_ENTRY = fileURLToPath(new URL('./worker.ts', import.meta.url));
const WORKER = bundledPath(WORKER_ENTRY);

const STARTUP_MS = 30_000;
const STEP_MS = 10_000;

const HELP = `usage: npm run bench -- [--seconds N] [--warmup N] [--rounds N] [--only a,b] [--workload name] [--json] [--cpu-prof DIR] [--ballast N]
  --rounds:  runs every system N times, in turn (the order reversed every other round), and reports
             each system's median run and the median and range of the per-round ratios
  --ballast: objects each process keeps alive, for an application's heap (see bench/worker.ts)
  systems:   ${systemNames.join(', ')}
  workloads: ${workloads.map((w) => w.name).join(', ')}`;

interface Settings {
  seconds: number;
  rounds: number;
  warmupSeconds: number;
  systems: string[];
  workloads: Workload[];
  json: boolean;
  cpuProfDir: string | undefined;
  ballast: number;
}

/** One row of the results; `--json` prints these, one per line. */
interface Result {
  system: string;
  workload: string;
  callsPerSec: number;
  p50us: number;
  p99us: number;
  /** Client + server CPU per call. */
  cpuUsPerCall: number;
  clientCpuUsPerCall: number;
  serverCpuUsPerCall: number;
  /** Payload megabytes (10^6 bytes) per second in each direction; null for workloads without a payload. */
  mbPerSec: number | null;
  calls: number;
  seconds: number;
  /** Which of the `--rounds` this run was, from 1. */
  round?: number;
}

function childExecArgv(settings: Settings, system: string, workload: string, role: string): string[] {
  const argv: string[] = [];
  if (settings.cpuProfDir !== undefined) {
    // A directory per process: the loader's worker thread writes a profile of its own next to the main one.
    argv.push('--cpu-prof', `--cpu-prof-dir=${join(settings.cpuProfDir, `${system}.${workload}.${role}`)}`);
  }
  return argv;
}

async function runOne(settings: Settings, system: string, workload: Workload): Promise<Result> {
  const env = { BENCH_BALLAST: String(settings.ballast) };
  const server = new Child<Report>(`${system} server`, WORKER, ['server', system], childExecArgv(settings, system, workload.name, 'server'), env);
  const client = new Child<Report>(`${system} client`, WORKER, ['client', system, workload.name], childExecArgv(settings, system, workload.name, 'client'), env);
  try {
    const { address } = await server.next('ready', STARTUP_MS);
    const warmupMs = Math.round(settings.warmupSeconds * 1000);
    client.send({ type: 'run', address, warmupMs });
    await client.next('warmed', STARTUP_MS + warmupMs);
    server.send({ type: 'start' });
    await server.next('started', STEP_MS);
    const measureMs = Math.round(settings.seconds * 1000);
    client.send({ type: 'measure', ms: measureMs });
    const { result } = await client.next('measured', measureMs + STEP_MS);
    server.send({ type: 'stop' });
    const served = await server.next('stopped', STEP_MS);
    if (result.calls === 0 || served.calls === 0) throw new Error(`${system} completed no calls in the measured window`);
    const callsPerSec = result.calls / result.seconds;
    const clientCpu = result.cpuUs / result.calls;
    const serverCpu = served.cpuUs / served.calls;
    return {
      system,
      workload: workload.name,
      callsPerSec: Math.round(callsPerSec),
      p50us: round(result.p50us),
      p99us: round(result.p99us),
      cpuUsPerCall: round(clientCpu + serverCpu),
      clientCpuUsPerCall: round(clientCpu),
      serverCpuUsPerCall: round(serverCpu),
      mbPerSec: workload.payloadBytes === 0 ? null : round((callsPerSec * workload.payloadBytes) / 1e6),
      calls: result.calls,
      seconds: round(result.seconds),
    };
  } finally {
    await client.end();
    await server.end();
  }
}

/**
 * Systems that are another system plus one feature, against that system: their ratio to it is what
 * the feature costs, shown apart from the comparison with the baselines.
 */
const variants: Readonly<Record<string, string>> = { 'switchyard-tls': 'switchyard', 'switchyard-metrics': 'switchyard', 'switchyard-traced': 'switchyard' };

/**
 * Switchyard over one transport, against the plain program on the same protocol as its baseline:
 * their ratio is what Switchyard adds on that protocol.
 */
const counterparts: Readonly<Record<string, string>> = { 'switchyard-http': 'undici-http' };

const show = (value: number | null): string => (value === null ? '-' : String(value));
const ratio = (a: number | null, b: number | null): string => (a === null || b === null || b === 0 ? '-' : `${(a / b).toFixed(2)}x`);

function printTable(results: Result[]): void {
  console.log(
    table(
      ['system', 'workload', 'calls/s', 'p50 µs', 'p99 µs', 'client CPU µs/call', 'server CPU µs/call', 'MB/s'],
      results.map((r) => [r.system, r.workload, show(r.callsPerSec), show(r.p50us), show(r.p99us), show(r.clientCpuUsPerCall), show(r.serverCpuUsPerCall), show(r.mbPerSec)]),
    ),
  );
  const rows: string[][] = [];
  for (const workload of new Set(results.map((r) => r.workload))) {
    const ours = results.find((r) => r.system === 'switchyard' && r.workload === workload);
    if (ours === undefined) continue;
    for (const base of results.filter((r) => r.system !== 'switchyard' && variants[r.system] === undefined && r.workload === workload)) {
      rows.push([workload, base.system, ratio(ours.callsPerSec, base.callsPerSec), ratio(ours.cpuUsPerCall, base.cpuUsPerCall), ratio(ours.p50us, base.p50us), ratio(ours.mbPerSec, base.mbPerSec)]);
    }
  }
  if (rows.length > 0) {
    console.log('\nswitchyard ÷ baseline, same run (calls/s and MB/s: above 1x is better; CPU and p50: below 1x is better)');
    console.log(table(['workload', 'vs', 'calls/s', 'CPU/call (client+server)', 'p50', 'MB/s'], rows));
  }
  printCounterparts(results);
  printVariants(results);
}

/** Each Switchyard transport against its plain baseline on the same protocol, per workload. */
function printCounterparts(results: Result[]): void {
  const rows: string[][] = [];
  for (const [system, baseline] of Object.entries(counterparts)) {
    for (const ours of results.filter((r) => r.system === system)) {
      const base = results.find((r) => r.system === baseline && r.workload === ours.workload);
      if (base === undefined) continue;
      rows.push([ours.workload, `${system} ÷ ${baseline}`, ratio(ours.callsPerSec, base.callsPerSec), ratio(ours.cpuUsPerCall, base.cpuUsPerCall), ratio(ours.p50us, base.p50us), ratio(ours.mbPerSec, base.mbPerSec)]);
    }
  }
  if (rows.length === 0) return;
  console.log('\nswitchyard over a protocol ÷ the plain baseline on it, same run (calls/s and MB/s: above 1x is better; CPU and p50: below 1x is better)');
  console.log(table(['workload', 'pair', 'calls/s', 'CPU/call (client+server)', 'p50', 'MB/s'], rows));
}

/** Each variant against the system it adds to, per workload: what its feature costs. */
function printVariants(results: Result[]): void {
  const rows: string[][] = [];
  for (const [variant, plain] of Object.entries(variants)) {
    for (const ours of results.filter((r) => r.system === variant)) {
      const base = results.find((r) => r.system === plain && r.workload === ours.workload);
      if (base === undefined) continue;
      rows.push([ours.workload, `${variant} ÷ ${plain}`, ratio(ours.callsPerSec, base.callsPerSec), ratio(ours.cpuUsPerCall, base.cpuUsPerCall), ratio(ours.p50us, base.p50us), ratio(ours.mbPerSec, base.mbPerSec)]);
    }
  }
  if (rows.length === 0) return;
  console.log('\nvariant ÷ the system it adds to, same run: the cost of its feature (calls/s and MB/s below 1x, CPU and p50 above 1x)');
  console.log(table(['workload', 'variant', 'calls/s', 'CPU/call (client+server)', 'p50', 'MB/s'], rows));
}

/** Each system's run of median calls/s, per workload. */
function medianRuns(runs: Result[]): Result[] {
  const medians: Result[] = [];
  for (const workload of new Set(runs.map((r) => r.workload))) {
    for (const system of new Set(runs.map((r) => r.system))) {
      const mine = runs.filter((r) => r.system === system && r.workload === workload).sort((a, b) => a.callsPerSec - b.callsPerSec);
      if (mine.length > 0) medians.push(mine[Math.floor((mine.length - 1) / 2)]!);
    }
  }
  return medians;
}

/**
 * The calls/s ratio of every pair the tables compare, taken round by round (both runs of a round
 * are minutes apart at most), with its median and range: steadier than the ratio of two medians on
 * a machine whose speed drifts. The CPU per call of each side is paired the same way.
 */
function printRoundRatios(runs: Result[]): void {
  const pairs: Array<[string, string]> = [...Object.entries(counterparts), ...Object.entries(variants)];
  for (const system of new Set(runs.map((r) => r.system))) {
    if (system !== 'switchyard' && variants[system] === undefined && !Object.values(counterparts).includes(system) && !Object.keys(counterparts).includes(system)) pairs.push(['switchyard', system]);
  }
  const rows: string[][] = [];
  const cpuRows: string[][] = [];
  for (const workload of new Set(runs.map((r) => r.workload))) {
    for (const [ours, base] of pairs) {
      const paired: Array<[Result, Result]> = [];
      for (const run of runs.filter((r) => r.system === ours && r.workload === workload)) {
        const other = runs.find((r) => r.system === base && r.workload === workload && r.round === run.round);
        if (other !== undefined && other.callsPerSec > 0) paired.push([run, other]);
      }
      if (paired.length === 0) continue;
      const ratios = paired.map(([a, b]) => a.callsPerSec / b.callsPerSec).sort((a, b) => a - b);
      rows.push([workload, `${ours} ÷ ${base}`, `${median(ratios).toFixed(2)}x`, `${ratios[0]!.toFixed(2)}x–${ratios.at(-1)!.toFixed(2)}x`, ratios.map((r) => r.toFixed(2)).join(' '), String(ratios.length)]);
      const cpu = (pick: (r: Result) => number) => {
        const each = paired.filter(([, b]) => pick(b) > 0).map(([a, b]) => pick(a) / pick(b)).sort((a, b) => a - b);
        return each.length === 0 ? '-' : `${median(each).toFixed(2)}x (${each[0]!.toFixed(2)}–${each.at(-1)!.toFixed(2)})`;
      };
      cpuRows.push([workload, `${ours} ÷ ${base}`, cpu((r) => r.cpuUsPerCall), cpu((r) => r.clientCpuUsPerCall), cpu((r) => r.serverCpuUsPerCall)]);
    }
  }
  if (rows.length === 0) return;
  console.log('\ncalls/s ratio round by round (above 1x: the first is faster)');
  console.log(table(['workload', 'pair', 'median', 'range', 'rounds', 'n'], rows));
  console.log('\nCPU per call ratio round by round, median (range) (below 1x: the first costs less)');
  console.log(table(['workload', 'pair', 'client+server', 'client', 'server'], cpuRows));
}

function median(sorted: number[]): number {
  const n = sorted.length;
  return n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
}

function parseSettings(): Settings {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '2' },
      warmup: { type: 'string', default: '0.5' },
      rounds: { type: 'string', default: '1' },
      only: { type: 'string' },
      workload: { type: 'string' },
      json: { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
      ballast: { type: 'string', default: '0' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.error(HELP);
    process.exit(0);
  }
  const seconds = Number(values.seconds);
  const warmupSeconds = Number(values.warmup);
  const rounds = Number(values.rounds);
  if (!(seconds > 0) || !(warmupSeconds >= 0)) throw new Error(`--seconds must be > 0 and --warmup >= 0\n${HELP}`);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a whole number of at least 1\n${HELP}`);
  const systems = values.only === undefined ? systemNames : values.only.split(',').map((s) => s.trim());
  for (const name of systems) if (!systemNames.includes(name)) throw new Error(`unknown system ${JSON.stringify(name)}\n${HELP}`);
  const chosen = values.workload === undefined ? [...workloads] : values.workload.split(',').map((name) => findWorkload(name.trim()));
  const cpuProf = values['cpu-prof'];
  return { seconds, rounds, warmupSeconds, systems, workloads: chosen, json: values.json, cpuProfDir: cpuProf === undefined ? undefined : resolve(cpuProf), ballast: Number(values.ballast) };
}

async function main(): Promise<void> {
  const settings = parseSettings();
  await bundle(WORKER_ENTRY);
  const runs: Result[] = [];
  let failures = 0;
  const total = settings.systems.length * settings.workloads.length * settings.rounds;
  for (const workload of settings.workloads) {
    for (let round = 1; round <= settings.rounds; round++) {
      // Reversed every other round, so that neither system always runs first (or on a warmer machine).
      const order = round % 2 === 1 ? settings.systems : [...settings.systems].reverse();
      for (const system of order) {
        process.stderr.write(`[${runs.length + failures + 1}/${total}] ${system} ${workload.name} ... `);
        try {
          const result = { ...(await runOne(settings, system, workload)), round };
          runs.push(result);
          process.stderr.write(`${result.callsPerSec} calls/s\n`);
          if (settings.json) console.log(JSON.stringify(result));
        } catch (error) {
          failures++;
          process.stderr.write(`FAILED\n${(error as Error).message}\n`);
        }
      }
    }
  }
  if (!settings.json) {
    const rounds = settings.rounds === 1 ? '' : `, ${settings.rounds} rounds (each system's median run shown)`;
    console.log(`\n${settings.seconds} s measured after ${settings.warmupSeconds} s warm-up${rounds}, node ${process.version}, loopback\n`);
    printTable(settings.rounds === 1 ? runs : medianRuns(runs));
    if (settings.rounds > 1) printRoundRatios(runs);
  }
  if (failures > 0) process.exitCode = 1;
}

killChildrenOnExit();

main().catch((error: unknown) => {
  console.error((error as Error).message);
  killChildren();
  process.exitCode = 1;
});
