/**
 * `npm run bench:stream-memory`: whether flow control bounds memory. For each transport and each
 * direction, 1 GiB of 64 KiB items goes through one stream from a producer that makes items as
 * fast as it is pulled to a consumer held to a slower pace, with server and client in processes
 * of their own; the RSS of both is sampled every 100 ms. Exits non-zero when either process grew
 * beyond the bound, or a run failed. See bench/README.md ("Stream memory").
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Code } from '../src/index.js';
import { bundle, bundledPath } from './bundle.js';
import { round, table } from './stats.js';
import { Child, ChildFailed, killChildrenOnExit } from './child.js';
import type { MemoryCommand, MemoryReport } from './streams/memory-worker.js';
import { RssTrack } from './streams/rss.js';
import { memoryTransportNames } from './streams/transports.js';
import type { StreamDirection } from './streams/workloads.js';

// Children run memory-worker.ts bundled, with plain node: see bundle.ts.
const WORKER_ENTRY = fileURLToPath(new URL('./streams/memory-worker.ts', import.meta.url));
const WORKER = bundledPath(WORKER_ENTRY);

const STARTUP_MS = 30_000;
const SAMPLE_MS = 100;
const MIB = 1024 * 1024;
const DIRECTIONS: readonly StreamDirection[] = ['server', 'client', 'bidi'];

const HELP = `usage: npm run bench:stream-memory -- [--transport a,b] [--direction a,b] [--mib N] [--item-kib N] [--pace MB/s] [--bound-mib N] [--warmup-mib N] [--json]
  transports: ${memoryTransportNames.join(', ')} (default tcp)
  directions: ${DIRECTIONS.join(', ')} (default all): who produces; the other end consumes
  --pace:     the consumer's rate in MB/s (10^6 bytes), 0 for as fast as it can (default 200)
  --bound-mib: how far either process's RSS may rise above its start (default 64)`;

interface Settings {
  transports: string[];
  directions: StreamDirection[];
  bytes: number;
  itemBytes: number;
  /** The consumer's pace, bytes per second; 0 for none. */
  pace: number;
  bound: number;
  warmupBytes: number;
  json: boolean;
}

/** RSS of one process over a run, MiB. */
interface Rss {
  startMiB: number;
  maxMiB: number;
  endMiB: number;
  /** max − start: what the bound is checked against. */
  growthMiB: number;
}

/** One row; `--json` prints these, one per line. */
interface Row {
  transport: string;
  direction: StreamDirection;
  /** `over`: a process grew past the bound; `not supported`: the transport answered UNIMPLEMENTED. */
  status: 'ok' | 'over' | 'not supported' | 'failed';
  mbPerSec?: number;
  seconds?: number;
  server?: Rss;
  client?: Rss;
  error?: string;
}

const mib = (bytes: number) => round(bytes / MIB);

function rssOf(track: RssTrack): Rss {
  return { startMiB: mib(track.start), maxMiB: mib(track.max), endMiB: mib(track.end), growthMiB: mib(track.max - track.start) };
}

/** Samples both processes every SAMPLE_MS until `work` settles, and once more after. */
async function sampleWhile<T>(tracks: RssTrack[], work: Promise<T>): Promise<T> {
  let settled = false;
  const done = work.finally(() => {
    settled = true;
  });
  done.catch(() => {});
  while (!settled) {
    const next = Date.now() + SAMPLE_MS;
    await Promise.all(tracks.map((track) => track.sample()));
    await Promise.race([sleep(Math.max(0, next - Date.now())), done.catch(() => {})]);
  }
  await Promise.all(tracks.map((track) => track.sample()));
  return done;
}

async function runOne(settings: Settings, transport: string, direction: StreamDirection): Promise<Row> {
  const pace = String(settings.pace);
  const server = new Child<MemoryReport>(`${transport} server`, WORKER, ['server', transport, pace]);
  const client = new Child<MemoryReport>(`${transport} client`, WORKER, ['client', transport, pace]);
  const tell = (child: Child<MemoryReport>, command: MemoryCommand) => child.send(command);
  const items = Math.ceil(settings.bytes / settings.itemBytes);
  // Slower than the pace by 4x, plus start-up: a stream that takes longer is stuck.
  const runMs = STARTUP_MS + (settings.pace === 0 ? 600_000 : Math.round((4 * 1000 * settings.bytes) / settings.pace));
  try {
    const { address } = await server.next('ready', STARTUP_MS);
    tell(client, { type: 'connect', address });
    await client.next('connected', STARTUP_MS);
    // Warm both ends up on the same path, so that the start is measured with the code loaded and run.
    const warmupItems = Math.ceil(settings.warmupBytes / settings.itemBytes);
    if (warmupItems > 0) {
      tell(client, { type: 'run', direction, items: warmupItems, itemBytes: settings.itemBytes });
      await client.next('done', runMs);
    }
    const tracks = [new RssTrack(server.pid!), new RssTrack(client.pid!)];
    await Promise.all(tracks.map((track) => track.sample()));
    tell(client, { type: 'run', direction, items, itemBytes: settings.itemBytes });
    const done = await sampleWhile(tracks, client.next('done', runMs));
    const [serverRss, clientRss] = tracks.map(rssOf) as [Rss, Rss];
    const over = tracks.some((track) => track.max - track.start > settings.bound);
    return {
      transport,
      direction,
      status: over ? 'over' : 'ok',
      mbPerSec: round((done.items * settings.itemBytes) / 1e6 / done.seconds),
      seconds: round(done.seconds),
      server: serverRss,
      client: clientRss,
    };
  } catch (error) {
    if (error instanceof ChildFailed && error.code === Code.UNIMPLEMENTED) return { transport, direction, status: 'not supported', error: firstLine(error.message) };
    return { transport, direction, status: 'failed', error: firstLine((error as Error).message) };
  } finally {
    await client.end();
    await server.end();
  }
}

const firstLine = (text: string) => text.split('\n')[0]!;

function printTable(settings: Settings, rows: Row[]): void {
  const cells = (rss: Rss | undefined) => (rss === undefined ? ['-', '-', '-', '-'] : [rss.startMiB, rss.maxMiB, rss.endMiB, rss.growthMiB].map(String));
  console.log(
    `\n${mib(settings.bytes)} MiB in ${settings.itemBytes / 1024} KiB items per stream, consumer ${settings.pace === 0 ? 'unpaced' : `paced at ${settings.pace / 1e6} MB/s`}, ` +
      `RSS every ${SAMPLE_MS} ms (MiB), bound: growth ≤ ${mib(settings.bound)} MiB, node ${process.version}, loopback\n`,
  );
  console.log(
    table(
      ['transport', 'producer', 'MB/s', 'server start', 'max', 'end', 'growth', 'client start', 'max', 'end', 'growth', 'result'],
      rows.map((r) => [r.transport, r.direction, r.mbPerSec === undefined ? '-' : String(r.mbPerSec), ...cells(r.server), ...cells(r.client), r.status]),
    ),
  );
  for (const row of rows.filter((r) => r.error !== undefined)) console.log(`  ${row.transport} ${row.direction}: ${row.error}`);
}

function list<T extends string>(value: string, known: readonly string[], what: string): T[] {
  const names = value.split(',').map((name) => name.trim());
  for (const name of names) if (!known.includes(name)) throw new Error(`unknown ${what} ${JSON.stringify(name)}\n${HELP}`);
  return names as T[];
}

function parseSettings(): Settings {
  const { values } = parseArgs({
    options: {
      transport: { type: 'string', default: 'tcp' },
      direction: { type: 'string', default: DIRECTIONS.join(',') },
      mib: { type: 'string', default: '1024' },
      'item-kib': { type: 'string', default: '64' },
      pace: { type: 'string', default: '200' },
      'bound-mib': { type: 'string', default: '64' },
      'warmup-mib': { type: 'string', default: '16' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.error(HELP);
    process.exit(0);
  }
  const numbers = [values.mib, values['item-kib'], values.pace, values['bound-mib'], values['warmup-mib']].map(Number);
  const [megabytes, itemKib, pace, bound, warmup] = numbers as [number, number, number, number, number];
  if (!(megabytes > 0) || !(itemKib > 0) || !(pace >= 0) || !(bound > 0) || !(warmup >= 0)) throw new Error(`--mib, --item-kib and --bound-mib must be > 0, --pace and --warmup-mib >= 0\n${HELP}`);
  return {
    transports: list(values.transport, memoryTransportNames, 'transport'),
    directions: list<StreamDirection>(values.direction, DIRECTIONS, 'direction'),
    bytes: megabytes * MIB,
    itemBytes: Math.round(itemKib * 1024),
    pace: pace * 1e6,
    bound: bound * MIB,
    warmupBytes: warmup * MIB,
    json: values.json,
  };
}

async function main(): Promise<void> {
  const settings = parseSettings();
  await bundle(WORKER_ENTRY);
  const rows: Row[] = [];
  const total = settings.transports.length * settings.directions.length;
  for (const transport of settings.transports) {
    for (const direction of settings.directions) {
      process.stderr.write(`[${rows.length + 1}/${total}] ${transport}, ${direction} produces ... `);
      const row = await runOne(settings, transport, direction);
      rows.push(row);
      const growth = row.server === undefined ? '' : `, growth server ${row.server.growthMiB} MiB, client ${row.client!.growthMiB} MiB`;
      process.stderr.write(`${row.status}${row.mbPerSec === undefined ? '' : `, ${row.mbPerSec} MB/s`}${growth}\n`);
      if (row.error !== undefined && row.status === 'failed') process.stderr.write(`${row.error}\n`);
      if (settings.json) console.log(JSON.stringify(row));
    }
  }
  if (!settings.json) printTable(settings, rows);
  if (rows.some((row) => row.status === 'over' || row.status === 'failed')) process.exitCode = 1;
}

killChildrenOnExit();
main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exitCode = 1;
});
