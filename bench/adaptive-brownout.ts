/**
 * `npx tsx bench/adaptive-brownout.ts`: the consumer's p99 through a brown-out, against its p99
 * when healthy, over several rounds (the behavioural bounds of test/cluster/adaptive-brownout.test.ts,
 * measured rather than asserted, since one round on a busy machine is not reliable).
 *
 * Each round starts, in this process, two copies of one world: three providers and a client of
 * them (16 calls in flight, `read` of the cluster tests' probe service). Both call at the same time:
 * `--calls` calls while all providers are healthy, then `--calls` more while the first world's third
 * provider takes 200 ms a call (the brown-out) and the second world stays healthy (its twin). Two
 * ratios are printed:
 * - `÷ before`: the brown-out p99 ÷ the same client's p99 in the healthy phase before it;
 * - `÷ twin`: the brown-out p99 ÷ the healthy twin's p99 over the same seconds.
 * On a shared machine the first moves with whatever else runs (the `control` setup, where nothing
 * slows down, shows by how much); the twin suffers the same pauses as the world it is compared
 * with, so the second isolates what the brown-out itself does.
 *
 * Setups (`--only a,b`; the default is the first three):
 * - `recommended`: `loadBalance: 'shortestresponse'`, `adaptiveConcurrency: true`, no deadline;
 * - `recommended+ejection`: the same with `outlierEjection` and a 150 ms deadline;
 * - `control`: `recommended`, with nothing slowed down;
 * - `p2c+adaptive`: `loadBalance: 'p2c'`, `adaptiveConcurrency: true`;
 * - `random+adaptive`, `random+adaptive+ejection`: the default balancer with the limits (and
 *   ejection and a 150 ms deadline);
 * - `none` (slow): the default balancer alone: a third of the calls wait 200 ms.
 *
 * Before the rounds, one round of the first setup is run and not counted: the process's own warm-up
 * (the first round of a fresh process had a healthy p99 several times the later ones').
 *
 * Options: --rounds N (default 5), --calls N (per phase and world, default 6000), --only a,b.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createClient, createServer, type ClientOptions, type Server } from '../src/index.js';
import { ProbeService, probeImpl, type Behaviour, type Received } from '../test/support/cluster.js';

const LANES = 16;
const SLOW_MS = 200;

interface Setup {
  readonly client: ClientOptions;
  readonly timeoutMs?: number;
  /** How much slower the third provider gets; default SLOW_MS. */
  readonly slowMs?: number;
}

const limits: ClientOptions = { adaptiveConcurrency: true };
const ejection: ClientOptions = { outlierEjection: { consecutiveFailures: 10, maxEjectedShare: 0.67 } };
const recommended: ClientOptions = { loadBalance: 'shortestresponse', ...limits };
const setups: Record<string, Setup> = {
  recommended: { client: recommended },
  'recommended+ejection': { client: { ...recommended, ...ejection }, timeoutMs: 150 },
  control: { client: recommended, slowMs: 0 },
  'p2c+adaptive': { client: { loadBalance: 'p2c', ...limits } },
  'random+adaptive': { client: limits },
  'random+adaptive+ejection': { client: { ...limits, ...ejection }, timeoutMs: 150 },
  none: { client: {} },
};

/** Three providers and a client of them. */
class World {
  private constructor(
    private readonly dir: string,
    private readonly servers: Server[],
    readonly behaviours: Behaviour[],
    readonly received: Received[][],
    private readonly close: () => Promise<void>,
    readonly read: (i: number) => Promise<unknown>,
  ) {}

  static async start(setup: Setup): Promise<World> {
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
    const client = createClient({ registry, ...setup.client });
    const probe = client.proxy(ProbeService, setup.timeoutMs === undefined ? {} : { timeoutMs: setup.timeoutMs });
    return new World(dir, servers, behaviours, received, () => client.close({ timeoutMs: 1000 }), (i) => probe.read(i));
  }

  async stop(): Promise<void> {
    await this.close();
    await Promise.all(this.servers.map((server) => server.close({ timeoutMs: 1000 })));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

interface PhaseResult {
  p99: number;
  failed: number;
}

/** Both worlds call, LANES calls in flight each, until the first has made `calls` calls. */
async function phase(worlds: readonly [World, World], calls: number): Promise<[PhaseResult, PhaseResult]> {
  let done = false;
  const run = async (world: World, counted: boolean): Promise<PhaseResult> => {
    const latencies: number[] = [];
    let failed = 0;
    let next = 0;
    const lane = async () => {
      while (counted ? next < calls : !done) {
        const i = next++;
        const started = performance.now();
        await world.read(i).catch(() => failed++);
        latencies.push(performance.now() - started);
      }
    };
    await Promise.all(Array.from({ length: LANES }, lane));
    if (counted) done = true;
    latencies.sort((a, b) => a - b);
    return { p99: latencies[Math.ceil(latencies.length * 0.99) - 1]!, failed };
  };
  return Promise.all([run(worlds[0], true), run(worlds[1], false)]);
}

interface RoundResult {
  healthy: number;
  slowed: number;
  twin: number;
  failed: number;
  toSlow: number;
}

async function round(setup: Setup, calls: number): Promise<RoundResult> {
  const worlds = [await World.start(setup), await World.start(setup)] as const;
  try {
    await phase(worlds, calls); // warm-up: code paths, connections, the limits' long-term RTTs
    const [healthy] = await phase(worlds, calls);
    const slow = worlds[0];
    slow.behaviours[2]!.delayMs = setup.slowMs ?? SLOW_MS;
    const before = slow.received[2]!.length;
    const [slowed, twin] = await phase(worlds, calls);
    return { healthy: healthy.p99, slowed: slowed.p99, twin: twin.p99, failed: slowed.failed, toSlow: slow.received[2]!.length - before };
  } finally {
    await Promise.all(worlds.map((world) => world.stop()));
  }
}

function summary(ratios: number[]): string {
  const sorted = [...ratios].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return `median ${median.toFixed(2)}, range ${sorted[0]!.toFixed(2)}–${sorted.at(-1)!.toFixed(2)}, ` +
    `within 2× in ${sorted.filter((x) => x <= 2).length} of ${sorted.length}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, calls: { type: 'string', default: '6000' }, only: { type: 'string' } } });
  const chosen = values.only === undefined ? ['recommended', 'recommended+ejection', 'control'] : values.only.split(',');
  for (const name of chosen) if (!(name in setups)) throw new Error(`unknown setup ${name}; setups: ${Object.keys(setups).join(', ')}`);
  const [rounds, calls] = [Number(values.rounds), Number(values.calls)];
  console.log(`one of three providers slowed to ${SLOW_MS} ms a call; ${LANES} in flight; ${calls} calls per phase; node ${process.version}\n`);
  await round(setups[chosen[0]!]!, calls);
  console.log(['setup', 'round', 'healthy p99 ms', 'brown-out p99 ms', 'twin p99 ms', '÷ before', '÷ twin', 'calls to the slow one', 'failed'].join('\t'));
  for (const name of chosen) {
    const before: number[] = [];
    const twin: number[] = [];
    const toSlow: number[] = [];
    for (let r = 1; r <= rounds; r++) {
      const result = await round(setups[name]!, calls);
      before.push(result.slowed / result.healthy);
      twin.push(result.slowed / result.twin);
      toSlow.push(result.toSlow);
      console.log([name, r, result.healthy.toFixed(1), result.slowed.toFixed(1), result.twin.toFixed(1), before.at(-1)!.toFixed(2), twin.at(-1)!.toFixed(2),
        result.toSlow, result.failed].join('\t'));
    }
    toSlow.sort((a, b) => a - b);
    console.log(`${name}: ÷ before ${summary(before)}; ÷ twin ${summary(twin)}; calls to the slow one ${toSlow[0]}–${toSlow.at(-1)}\n`);
  }
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exitCode = 1;
});
