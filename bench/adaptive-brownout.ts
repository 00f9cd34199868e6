/**
 * `npx tsx bench/adaptive-brownout.ts`: the consumer's p99 through a brown-out, against its p99
 * before it, over several rounds (the behavioural bound of test/cluster/adaptive-brownout.test.ts,
 * measured rather than asserted, since one round on a busy machine is not reliable).
 *
 * Each round starts three providers and a client in this process (16 calls in flight, `read` of the
 * cluster tests' probe service), measures `--calls` calls while all are healthy, then slows one
 * provider to 200 ms a call and measures `--calls` more. Setups:
 * - `adaptive`: `adaptiveConcurrency: true`, no deadline;
 * - `adaptive+ejection`: `adaptiveConcurrency: true`, `outlierEjection` and a 150 ms deadline;
 * - `none` (only with `--only none`, it is slow): neither, no deadline: a third of the calls wait 200 ms.
 *
 * Options: --rounds N (default 5), --calls N (per phase, default 6000), --only a,b.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createClient, createServer, type ClientOptions, type Server } from '../src/index.js';
import { ProbeService, probeImpl, type Behaviour, type Received } from '../test/support/cluster.js';

const LANES = 16;

const setups: Record<string, { client: ClientOptions; timeoutMs?: number }> = {
  adaptive: { client: { adaptiveConcurrency: true } },
  'adaptive+ejection': { client: { adaptiveConcurrency: true, outlierEjection: { consecutiveFailures: 10, maxEjectedShare: 0.67 } }, timeoutMs: 150 },
  none: { client: {} },
};

async function phase(calls: number, call: (i: number) => Promise<unknown>): Promise<{ p99: number; failed: number }> {
  const latencies: number[] = [];
  let failed = 0;
  let next = 0;
  const lane = async () => {
    while (next < calls) {
      const i = next++;
      const started = performance.now();
      await call(i).catch(() => failed++);
      latencies.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: LANES }, lane));
  latencies.sort((a, b) => a - b);
  return { p99: latencies[Math.ceil(latencies.length * 0.99) - 1]!, failed };
}

async function round(name: string, calls: number): Promise<{ healthy: number; slowed: number; failed: number; toSlow: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-brownout-'));
  const registry = `embedded://${dir}`;
  const servers: Server[] = [];
  const behaviours: Behaviour[] = [];
  const received: Received[][] = [];
  for (const label of ['a', 'b', 'c']) {
    const behaviour: Behaviour = { failing: false, delayMs: 0 };
    const seen: Received[] = [];
    const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry, warmupMs: 0 });
    server.provide(ProbeService, probeImpl(label, behaviour, seen));
    await server.listen();
    servers.push(server);
    behaviours.push(behaviour);
    received.push(seen);
  }
  const setup = setups[name]!;
  const client = createClient({ registry, ...setup.client });
  const probe = client.proxy(ProbeService, setup.timeoutMs === undefined ? {} : { timeoutMs: setup.timeoutMs });
  try {
    await phase(calls, (i) => probe.read(i)); // warm-up
    const healthy = await phase(calls, (i) => probe.read(i));
    behaviours[2]!.delayMs = 200;
    const before = received[2]!.length;
    const slowed = await phase(calls, (i) => probe.read(i));
    return { healthy: healthy.p99, slowed: slowed.p99, failed: slowed.failed, toSlow: received[2]!.length - before };
  } finally {
    await client.close({ timeoutMs: 1000 });
    await Promise.all(servers.map((server) => server.close({ timeoutMs: 1000 })));
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, calls: { type: 'string', default: '6000' }, only: { type: 'string' } } });
  const chosen = values.only === undefined ? ['adaptive', 'adaptive+ejection'] : values.only.split(',');
  for (const name of chosen) if (!(name in setups)) throw new Error(`unknown setup ${name}; setups: ${Object.keys(setups).join(', ')}`);
  const [rounds, calls] = [Number(values.rounds), Number(values.calls)];
  console.log(`one of three providers slowed to 200 ms a call; ${LANES} in flight; ${calls} calls per phase; node ${process.version}\n`);
  console.log(['setup', 'round', 'healthy p99 ms', 'brown-out p99 ms', 'ratio', 'calls to the slow one', 'failed'].join('\t'));
  for (const name of chosen) {
    const ratios: number[] = [];
    for (let r = 1; r <= rounds; r++) {
      const result = await round(name, calls);
      ratios.push(result.slowed / result.healthy);
      console.log([name, r, result.healthy.toFixed(1), result.slowed.toFixed(1), ratios.at(-1)!.toFixed(2), result.toSlow, result.failed].join('\t'));
    }
    ratios.sort((a, b) => a - b);
    console.log(`${name}: ratio median ${ratios[Math.floor(ratios.length / 2)]!.toFixed(2)}, range ${ratios[0]!.toFixed(2)}–${ratios.at(-1)!.toFixed(2)}; within 2× in ${ratios.filter((x) => x <= 2).length} of ${rounds} rounds\n`);
  }
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exitCode = 1;
});
