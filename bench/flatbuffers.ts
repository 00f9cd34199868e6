/**
 * `npm run bench:flatbuffers`: FlatBuffers against MessagePack and Protobuf, measured in one run.
 *
 * Two messages: an order of 20 line items (strings, a count and a 64-bit price each) answered by a
 * receipt, and a 64 KiB byte echo. First the codecs alone, in this process: encode and decode of
 * the request by Switchyard's MessagePack serializer (the argument array `[order]`), its Protobuf
 * codec of a `.proto` service (bench/flatbuffers.proto) and its FlatBuffers codec of a `.fbs`
 * service (bench/flatbuffers.fbs). Then real calls, server and client each in a process of its own
 * (bundled and run with plain node, see bundle.ts): `tcp://` with MessagePack (a service defined
 * without a schema, the baseline; and the `.fbs` service, whose requests the server then checks
 * through FlatBuffers) and with FlatBuffers,
 * and `grpc://` with Protobuf (`application/grpc`, the only transport that carries Protobuf) and
 * with FlatBuffers (`application/grpc+flatbuffers`). The schema is compiled once to a `.bfbs`
 * (scripts/flatc.sh), which the children read without flatc. Ratios are against MessagePack (on
 * `tcp://`) from the same run.
 *
 * Options: --seconds N (each codec loop and each call window, default 1), --rounds N (call windows
 * per setup, default 3), --warmup N (seconds per setup, default 0.5).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createClient, createServer, defineService, defineServiceFromProto, type ServiceDefinition } from '../src/index.js';
import { defineServiceFromFbs } from '../src/serialization/flatbuffers/service.js';
import { flatbuffersSerializer } from '../src/serialization/flatbuffers/serializer.js';
import { msgpackSerializer } from '../src/serialization/msgpack.js';
import { protoServiceOf } from '../src/transport/grpc/proto-registry.js';
import { BUILD_DIR, bundle } from './bundle.js';
import { Child, killChildrenOnExit } from './child.js';
import { cpuMicrosSince, round } from './stats.js';
import { LoadDriver, type ClientResult, type Workload } from './workloads.js';
import type { BenchClient } from './systems/index.js';

interface Receipt { orderId: bigint; totalCents: bigint; lineCount: number }
interface Orders {
  place(order: object): Promise<Receipt>;
  echo(blob: { data: Uint8Array }): Promise<{ data: Uint8Array }>;
}

const order = {
  id: 1234567n,
  customer: 'Ada Lovelace',
  note: 'leave at the door',
  lines: Array.from({ length: 20 }, (_, i) => ({ sku: `SKU-${10000 + i}`, title: `Item number ${i}, a title of some length`, quantity: 1 + (i % 5), unitCents: 199n + BigInt(i) })),
};
const blob = { data: Buffer.alloc(64 * 1024, 0x5a) };

type Definitions = Record<'plain' | 'fbs' | 'proto', ServiceDefinition<Orders>>;

/** The service three ways: without a schema (the MessagePack baseline), from the .fbs, from the .proto. */
function definitions(bfbs: string, proto: string): Definitions {
  return {
    plain: defineService<Orders>('bench.PlainOrders', { methods: { place: {}, echo: {} } }),
    fbs: defineServiceFromFbs<Orders>(bfbs, 'bench.Orders'),
    proto: defineServiceFromProto<Orders>(proto, 'benchpb.Orders'),
  };
}

/** One codec's encode of a request and decode of it, as a server reads it. */
interface Format { name: string; encode(value: object): Uint8Array; decode(bytes: Uint8Array): unknown }

function formats(defs: Definitions, method: 'place' | 'echo'): Format[] {
  const msgpack = msgpackSerializer();
  const proto = protoServiceOf(defs.proto as ServiceDefinition)!.methods.get(method)!.codec;
  const fbs = flatbuffersSerializer();
  const writer = fbs.forMethod!(defs.fbs as ServiceDefinition, method, 'client');
  const reader = fbs.forMethod!(defs.fbs as ServiceDefinition, method, 'server');
  return [
    { name: 'msgpack', encode: (value) => msgpack.encode([value]), decode: (bytes) => (msgpack.decode(bytes) as unknown[])[0] },
    { name: 'protobuf', encode: (value) => proto.encodeRequest([value]), decode: (bytes) => proto.decodeRequest(bytes)[0] },
    { name: 'flatbuffers', encode: (value) => writer.encode([value]), decode: (bytes) => (reader.decode(bytes) as unknown[])[0] },
  ];
}

/** Runs `fn` in batches for about `ms`; operations per second. */
function rate(fn: () => unknown, ms: number): number {
  let count = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    for (let i = 0; i < 50; i++) fn();
    count += 50;
  }
  return count / ((performance.now() - start) / 1000);
}

/** Codec rounds: each format is measured in short slices, its place in the order turning each round, and the median kept (a busy machine shifts under a long run). */
const CODEC_ROUNDS = 5;

function benchCodecs(defs: Definitions, ms: number): void {
  console.log(`\ncodecs, in one process (node ${process.version}); ops/s of the request message, median of ${CODEC_ROUNDS} rounds; enc+dec = one encode and one decode`);
  console.log(['message', 'format', 'bytes', 'encode/s', 'decode/s', 'enc+dec/s', 'vs msgpack'].join('\t'));
  for (const [label, method, value] of [['order of 20 lines', 'place', order], ['64 KiB bytes', 'echo', blob]] as const) {
    const list = formats(defs, method);
    const encoded = list.map((format) => format.encode(value));
    for (const [i, format] of list.entries()) {
      const decoded = format.decode(encoded[i]!) as Record<string, unknown>;
      const check = method === 'place' ? (decoded.lines as unknown[]).length === 20 : (decoded.data as Uint8Array).byteLength === blob.data.length;
      if (!check) throw new Error(`${format.name} did not read back what it wrote`);
      rate(() => format.decode(format.encode(value)), ms / 4);
    }
    const encodes = list.map((): number[] => []);
    const decodes = list.map((): number[] => []);
    for (let r = 0; r < CODEC_ROUNDS; r++) {
      for (let k = 0; k < list.length; k++) {
        const i = (k + r) % list.length;
        encodes[i]!.push(rate(() => list[i]!.encode(value), ms / CODEC_ROUNDS));
        decodes[i]!.push(rate(() => list[i]!.decode(encoded[i]!), ms / CODEC_ROUNDS));
      }
    }
    const both = list.map((_, i) => 1 / (1 / median(encodes[i]!) + 1 / median(decodes[i]!)));
    for (const [i, format] of list.entries()) {
      console.log([label, format.name, encoded[i]!.byteLength, Math.round(median(encodes[i]!)), Math.round(median(decodes[i]!)), Math.round(both[i]!), `${(both[i]! / both[0]!).toFixed(2)}x`].join('\t'));
    }
  }
}

/** The call setups: transport, serializer and the definition the client calls. */
const setups = [
  { name: 'tcp msgpack', scheme: 'tcp', serializer: 'msgpack', def: 'plain' },
  // The .fbs definition called with MessagePack: the server checks each request through FlatBuffers.
  { name: 'tcp msgpack .fbs', scheme: 'tcp', serializer: 'msgpack', def: 'fbs' },
  { name: 'tcp flatbuffers', scheme: 'tcp', serializer: 'flatbuffers', def: 'fbs' },
  { name: 'grpc protobuf', scheme: 'grpc', serializer: 'msgpack', def: 'proto' },
  { name: 'grpc flatbuffers', scheme: 'grpc', serializer: 'flatbuffers', def: 'fbs' },
] as const;

const callWorkloads: Workload[] = [
  {
    name: 'order-20', description: 'place(order of 20 lines), 64 in flight', concurrency: 64, payloadBytes: 0,
    async call(client) {
      const receipt = await (client as unknown as Orders).place(order);
      if (receipt.lineCount !== 20) throw new Error(`place answered ${receipt.lineCount} lines`);
    },
  },
  {
    name: 'echo-64k', description: 'echo(64 KiB), 16 in flight', concurrency: 16, payloadBytes: blob.data.length,
    async call(client) {
      const echoed = await (client as unknown as Orders).echo(blob);
      if (echoed.data.byteLength !== blob.data.length) throw new Error(`echo answered ${echoed.data.byteLength} bytes`);
    },
  },
];

type Report = { type: 'ready'; addresses: Record<string, string> } | { type: 'started' } | { type: 'stopped'; cpuUs: number; calls: number } | { type: 'filled' } | { type: 'measured'; result: ClientResult } | { type: 'drained' };
type Command = { type: 'start' | 'stop' | 'drain' | 'exit' } | { type: 'fill'; setup: string; workload: string } | { type: 'measure'; ms: number };
const report = (message: Report | { type: 'error'; message: string }) => process.send!(message);

async function serve(bfbs: string, proto: string): Promise<void> {
  const defs = definitions(bfbs, proto);
  let calls = 0;
  const impl: Orders = {
    async place(input) {
      calls++;
      const lines = (input as { lines: Array<{ quantity: number; unitCents: bigint }> }).lines;
      return { orderId: (input as { id: bigint }).id, totalCents: lines.reduce((sum, line) => sum + BigInt(line.quantity) * line.unitCents, 0n), lineCount: lines.length };
    },
    async echo(input) {
      calls++;
      return input;
    },
  };
  const server = createServer({ listen: ['tcp://127.0.0.1:0', 'grpc://127.0.0.1:0'], registry: false, serializers: ['msgpack', 'json', 'flatbuffers'] });
  server.provide(defs.plain, impl);
  server.provide(defs.fbs, impl);
  server.provide(defs.proto, impl);
  const [tcp, grpc] = await server.listen();
  let cpuStart = process.cpuUsage();
  process.on('message', (command: Command) => {
    if (command.type === 'start') {
      cpuStart = process.cpuUsage();
      calls = 0;
      report({ type: 'started' });
    } else if (command.type === 'stop') {
      report({ type: 'stopped', cpuUs: cpuMicrosSince(cpuStart), calls });
    } else if (command.type === 'exit') {
      void server.close({ timeoutMs: 1000 }).finally(() => process.exit(0));
    }
  });
  report({ type: 'ready', addresses: { tcp: tcp!, grpc: grpc! } });
}

async function drive(addresses: Record<string, string>, bfbs: string, proto: string): Promise<void> {
  const defs = definitions(bfbs, proto);
  const clients = new Map<string, { client: ReturnType<typeof createClient>; orders: unknown }>(setups.map((setup) => {
    const client = createClient({ url: addresses[setup.scheme]!, serializer: setup.serializer });
    return [setup.name, { client, orders: client.proxy(defs[setup.def]) }];
  }));
  let driver: LoadDriver | undefined;
  process.on('message', (command: Command) => {
    void (async () => {
      if (command.type === 'fill') {
        const workload = callWorkloads.find((w) => w.name === command.workload)!;
        driver = new LoadDriver(clients.get(command.setup)!.orders as unknown as BenchClient, workload);
        await new Promise((resolve) => setTimeout(resolve, 100));
        driver.check();
        report({ type: 'filled' });
      } else if (command.type === 'measure') {
        report({ type: 'measured', result: await driver!.measure(command.ms) });
      } else if (command.type === 'drain') {
        await driver!.stop();
        driver!.check();
        report({ type: 'drained' });
      } else if (command.type === 'exit') {
        await Promise.all([...clients.values()].map(({ client }) => client.close()));
        process.exit(0);
      }
    })().catch((error: unknown) => report({ type: 'error', message: (error as Error).stack ?? String(error) }));
  });
}

interface Window { setup: string; workload: string; callsPerSec: number; cpuUsPerCall: number; p50us: number }

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '1' }, rounds: { type: 'string', default: '3' }, warmup: { type: 'string', default: '0.5' } } });
  const [ms, rounds, warmupMs] = [Number(values.seconds) * 1000, Number(values.rounds), Number(values.warmup) * 1000];
  if (!(ms > 0) || !(rounds >= 1) || !(warmupMs >= 0)) throw new Error('--seconds, --rounds and --warmup take positive numbers');
  const here = (name: string) => fileURLToPath(new URL(name, import.meta.url));
  execFileSync('bash', [here('../scripts/flatc.sh'), 'compile', BUILD_DIR, here('flatbuffers.fbs')], { stdio: ['ignore', 'inherit', 'inherit'] });
  const bfbs = `${BUILD_DIR}flatbuffers.bfbs`;
  const proto = here('flatbuffers.proto');
  benchCodecs(definitions(bfbs, proto), ms);
  killChildrenOnExit();
  const script = await bundle(fileURLToPath(import.meta.url));
  const server = new Child<Report>('flatbuffers bench server', script, ['server', bfbs, proto]);
  const { addresses } = await server.next('ready', 30_000);
  const client = new Child<Report>('flatbuffers bench client', script, ['client', bfbs, proto, JSON.stringify(addresses)]);
  const step = 10_000;
  const window = async (setup: string, workload: string, measureMs: number): Promise<Window> => {
    client.send({ type: 'fill', setup, workload });
    await client.next('filled', step);
    server.send({ type: 'start' });
    await server.next('started', step);
    client.send({ type: 'measure', ms: measureMs });
    const { result } = await client.next('measured', measureMs + step);
    server.send({ type: 'stop' });
    const served = await server.next('stopped', step);
    client.send({ type: 'drain' });
    await client.next('drained', step);
    return { setup, workload, callsPerSec: result.calls / result.seconds, cpuUsPerCall: result.cpuUs / result.calls + served.cpuUs / served.calls, p50us: result.p50us };
  };
  try {
    const windows: Window[] = [];
    for (const workload of callWorkloads) {
      for (const setup of setups) await window(setup.name, workload.name, warmupMs);
      for (let r = 0; r < rounds; r++) {
        // The order turns each round, so that no setup always runs first after another.
        for (let i = 0; i < setups.length; i++) windows.push(await window(setups[(i + r) % setups.length]!.name, workload.name, ms));
      }
    }
    printCalls(windows, rounds, values.seconds);
  } finally {
    await client.end();
    await server.end();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function printCalls(windows: Window[], rounds: number, seconds: string): void {
  console.log(`\ncalls, server and client in processes of their own; median of ${rounds} windows of ${seconds} s; CPU = client + server per call`);
  console.log(['workload', 'setup', 'calls/s', 'vs tcp msgpack', 'CPU µs/call', 'vs tcp msgpack', 'p50 µs'].join('\t'));
  for (const workload of callWorkloads) {
    const of = (setup: string, field: 'callsPerSec' | 'cpuUsPerCall' | 'p50us') => median(windows.filter((w) => w.setup === setup && w.workload === workload.name).map((w) => w[field]));
    for (const setup of setups) {
      const calls = of(setup.name, 'callsPerSec');
      const cpu = of(setup.name, 'cpuUsPerCall');
      console.log([workload.description, setup.name, Math.round(calls), `${(calls / of('tcp msgpack', 'callsPerSec')).toFixed(2)}x`, round(cpu), `${(cpu / of('tcp msgpack', 'cpuUsPerCall')).toFixed(2)}x`, round(of(setup.name, 'p50us'))].join('\t'));
    }
  }
}

// Started by hand it runs the benchmark; forked by itself (with an IPC channel) it plays one role.
const [role, ...args] = process.argv.slice(2);
if (process.send === undefined) {
  main().catch((error: unknown) => {
    console.error((error as Error).message);
    process.exitCode = 1;
  });
} else {
  process.on('disconnect', () => process.exit(1));
  const failed = (error: unknown) => report({ type: 'error', message: (error as Error).stack ?? String(error) });
  if (role === 'server') serve(args[0]!, args[1]!).catch(failed);
  else if (role === 'client') drive(JSON.parse(args[2]!) as Record<string, string>, args[0]!, args[1]!).catch(failed);
  else failed(new Error(`unknown role ${String(role)}`));
}
