/**
 * `npm run bench:streams`: client-stream, bidi and server-stream throughput, every system ×
 * workload in fresh server and client processes over loopback, then a table and the ratio of each
 * Switchyard row to grpc-js from this same run. See bench/README.md ("Streams").
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bundle, bundledPath } from './bundle.js';
import { round, table } from './stats.js';
import { Child, killChildrenOnExit } from './child.js';
import type { StreamCommand, StreamReport } from './streams/stream-worker.js';
import { streamSystemNames } from './streams/systems.js';
import { findStreamWorkload, streamWorkloads, type StreamWorkload } from './streams/workloads.js';

// Children run stream-worker.ts bundled, with plain node: see bundle.ts.
const WORKER_ENTRY = fileURLToPath(new URL('./streams/stream-worker.ts', import.meta.url));
const WORKER = bundledPath(WORKER_ENTRY);

const STARTUP_MS = 30_000;
const STEP_MS = 10_000;
const BASELINE = 'grpc-js';

const HELP = `usage: npm run bench:streams -- [--seconds N] [--warmup N] [--only a,b] [--workload a,b] [--json]
  systems:   ${streamSystemNames.join(', ')}
  workloads: ${streamWorkloads.map((w) => w.name).join(', ')}`;

interface Settings {
  seconds: number;
  warmupSeconds: number;
  systems: string[];
  workloads: StreamWorkload[];
  json: boolean;
}

/** One row of the results; `--json` prints these, one per line. */
interface Result {
  system: string;
  workload: string;
  itemsPerSec: number;
  /** Item bytes (10^6) per second, in each direction the items travel. */
  mbPerSec: number;
  /** Client + server CPU per item. */
  cpuUsPerItem: number;
  clientCpuUsPerItem: number;
  serverCpuUsPerItem: number;
  items: number;
  calls: number;
  seconds: number;
}

/** A system × workload that failed: a row of its own, so one system cannot stop the others. */
interface Failure {
  system: string;
  workload: string;
  error: string;
}

async function runOne(settings: Settings, system: string, workload: StreamWorkload): Promise<Result> {
  const server = new Child<StreamReport>(`${system} server`, WORKER, ['server', system]);
  const client = new Child<StreamReport>(`${system} client`, WORKER, ['client', system, workload.name]);
  const tell = (child: Child<StreamReport>, command: StreamCommand) => child.send(command);
  try {
    const { address } = await server.next('ready', STARTUP_MS);
    const warmupMs = Math.round(settings.warmupSeconds * 1000);
    tell(client, { type: 'run', address, warmupMs });
    await client.next('warmed', STARTUP_MS + warmupMs);
    tell(server, { type: 'start' });
    await server.next('started', STEP_MS);
    const measureMs = Math.round(settings.seconds * 1000);
    tell(client, { type: 'measure', ms: measureMs });
    // A window ends with a call, so it may run a call's length past `ms`.
    const { window } = await client.next('measured', 2 * measureMs + STARTUP_MS);
    tell(server, { type: 'stop' });
    const served = await server.next('stopped', STEP_MS);
    if (window.items === 0 || served.items === 0) throw new Error(`${system} completed no call in the measured window`);
    const itemsPerSec = window.items / window.seconds;
    const clientCpu = window.cpuUs / window.items;
    const serverCpu = served.cpuUs / served.items;
    return {
      system,
      workload: workload.name,
      itemsPerSec: Math.round(itemsPerSec),
      mbPerSec: round((itemsPerSec * workload.itemBytes) / 1e6),
      cpuUsPerItem: round(clientCpu + serverCpu),
      clientCpuUsPerItem: round(clientCpu),
      serverCpuUsPerItem: round(serverCpu),
      items: window.items,
      calls: window.calls,
      seconds: round(window.seconds),
    };
  } finally {
    await client.end();
    await server.end();
  }
}

const ratio = (a: number, b: number): string => (b === 0 ? '-' : `${(a / b).toFixed(2)}x`);
const isResult = (row: Result | Failure): row is Result => !('error' in row);

function printTable(rows: Array<Result | Failure>): void {
  console.log(
    table(
      ['system', 'workload', 'items/s', 'MB/s', 'client CPU µs/item', 'server CPU µs/item'],
      rows.map((r) =>
        isResult(r)
          ? [r.system, r.workload, String(r.itemsPerSec), String(r.mbPerSec), String(r.clientCpuUsPerItem), String(r.serverCpuUsPerItem)]
          : [r.system, r.workload, 'failed', '-', '-', '-'],
      ),
    ),
  );
  for (const failure of rows.filter((r): r is Failure => !isResult(r))) console.log(`  ${failure.system} ${failure.workload}: ${failure.error.split('\n')[0]}`);
  const results = rows.filter(isResult);
  const ratios: string[][] = [];
  for (const ours of results.filter((r) => r.system !== BASELINE)) {
    const base = results.find((r) => r.system === BASELINE && r.workload === ours.workload);
    if (base !== undefined) ratios.push([ours.workload, ours.system, ratio(ours.itemsPerSec, base.itemsPerSec), ratio(ours.cpuUsPerItem, base.cpuUsPerItem)]);
  }
  if (ratios.length === 0) return;
  console.log(`\nswitchyard ÷ ${BASELINE}, same run (items/s, hence MB/s: above 1x is better; CPU/item: below 1x is better)`);
  console.log(table(['workload', 'system', 'items/s', 'CPU/item (client+server)'], ratios));
}

function parseSettings(): Settings {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '2' },
      warmup: { type: 'string', default: '0.5' },
      only: { type: 'string' },
      workload: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.error(HELP);
    process.exit(0);
  }
  const seconds = Number(values.seconds);
  const warmupSeconds = Number(values.warmup);
  if (!(seconds > 0) || !(warmupSeconds >= 0)) throw new Error(`--seconds must be > 0 and --warmup >= 0\n${HELP}`);
  const systems = values.only === undefined ? streamSystemNames : values.only.split(',').map((s) => s.trim());
  for (const name of systems) if (!streamSystemNames.includes(name)) throw new Error(`unknown system ${JSON.stringify(name)}\n${HELP}`);
  const workloads = values.workload === undefined ? [...streamWorkloads] : values.workload.split(',').map((name) => findStreamWorkload(name.trim()));
  return { seconds, warmupSeconds, systems, workloads, json: values.json };
}

async function main(): Promise<void> {
  const settings = parseSettings();
  await bundle(WORKER_ENTRY);
  const rows: Array<Result | Failure> = [];
  const total = settings.systems.length * settings.workloads.length;
  for (const workload of settings.workloads) {
    for (const system of settings.systems) {
      process.stderr.write(`[${rows.length + 1}/${total}] ${system} ${workload.name} ... `);
      let row: Result | Failure;
      try {
        row = await runOne(settings, system, workload);
        process.stderr.write(`${row.itemsPerSec} items/s, ${row.mbPerSec} MB/s\n`);
      } catch (error) {
        row = { system, workload: workload.name, error: (error as Error).message };
        process.stderr.write(`FAILED\n${row.error}\n`);
      }
      rows.push(row);
      if (settings.json) console.log(JSON.stringify(row));
    }
  }
  if (!settings.json) {
    console.log(`\nstreams: ${settings.seconds} s measured after ${settings.warmupSeconds} s warm-up, one call at a time, node ${process.version}, loopback\n`);
    printTable(rows);
  }
  if (rows.some((row) => !isResult(row))) process.exitCode = 1;
}

killChildrenOnExit();
main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exitCode = 1;
});
