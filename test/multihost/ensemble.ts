import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Host, Testbed } from '../support/testbed.js';

const script = fileURLToPath(new URL('../../scripts/zookeeper-ensemble.sh', import.meta.url));
let installed: Promise<unknown> | undefined;

export type ServerMode = 'leader' | 'follower' | 'down' | 'not-serving';

/** One server of the ensemble: its id (myid) and its host. */
export interface EnsembleServer {
  readonly id: number;
  readonly host: Host;
}

function run(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', [script, ...args], { env: { ...process.env, ...env }, timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) reject(new Error(`scripts/zookeeper-ensemble.sh ${args.join(' ')} failed: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
  });
}

/** A ZooKeeper ensemble with one server per host of a test bed (scripts/zookeeper-ensemble.sh). */
export class ZooKeeperEnsemble {
  private constructor(readonly servers: readonly EnsembleServer[], private readonly dir: string, private readonly env: NodeJS.ProcessEnv) {}

  /** Installs ZooKeeper if needed, makes the hosts and starts one server in each; resolves once it has a leader and followers. */
  static async start(bed: Testbed, names: readonly string[], tickMs = 500): Promise<ZooKeeperEnsemble> {
    installed ??= run(['install'], {}, 300_000);
    await installed;
    const hosts = await bed.addHosts(...names);
    // In the run's folder: a test process killed before `stop()` leaves nothing that the run's teardown does not remove.
    const dir = await mkdtemp(join(await bed.dir(), 'zookeeper-'));
    const env = { ZK_TICK_MS: String(tickMs) };
    try {
      await run(['start', dir, ...hosts.map((host) => `${host.namespace}:${host.address}`)], env);
    } catch (error) {
      await run(['stop', dir], env).catch(() => {});
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
    return new ZooKeeperEnsemble(hosts.map((host, index) => ({ id: index + 1, host })), dir, env);
  }

  /** `a:2181,b:2181,c:2181`, for a `zookeeper://` address. */
  get connectString(): string {
    return this.servers.map((server) => `${server.host.address}:2181`).join(',');
  }

  server(id: number): EnsembleServer {
    const server = this.servers.find((candidate) => candidate.id === id);
    if (!server) throw new Error(`no ZooKeeper server ${id}`);
    return server;
  }

  async modes(): Promise<Map<number, ServerMode>> {
    const out = await run(['status', this.dir], this.env);
    return new Map(out.trim().split('\n').map((line) => {
      const [id, , mode] = line.split(' ');
      return [Number(id), mode as ServerMode];
    }));
  }

  async leader(): Promise<EnsembleServer> {
    for (const [id, mode] of await this.modes()) if (mode === 'leader') return this.server(id);
    throw new Error('the ensemble has no leader');
  }

  /**
   * Waits until the servers not in `excluded` serve under one leader; resolves with the time that
   * took, in ms. Partitioned or killed servers belong in `excluded`.
   */
  async untilServing(excluded: readonly number[] = [], timeoutMs = 60_000): Promise<number> {
    const started = Date.now();
    for (;;) {
      const modes = [...(await this.modes())].filter(([id]) => !excluded.includes(id)).map(([, mode]) => mode);
      if (modes.filter((mode) => mode === 'leader').length === 1 && modes.every((mode) => mode === 'leader' || mode === 'follower')) return Date.now() - started;
      if (Date.now() - started > timeoutMs) throw new Error(`the ensemble does not serve after ${timeoutMs} ms: ${modes.join(', ')}`);
      await sleep(100);
    }
  }

  /** Signals one server's process (default SIGKILL) and waits for it to exit. */
  async kill(id: number, signal = 'KILL'): Promise<void> {
    await run(['kill', this.dir, String(id), signal], this.env);
  }

  /** Starts a stopped server again on its data; resolves once the ensemble serves with it. */
  async restart(id: number): Promise<void> {
    await run(['start-node', this.dir, String(id)], this.env);
  }

  /** Client address (IP) to the id of the server its connection is on, as the servers' `cons` list them. */
  async connections(): Promise<Map<string, number>> {
    const answers = await Promise.all(this.servers.map(async (server) => ({
      id: server.id,
      lines: (await run(['cons', this.dir, String(server.id)], this.env, 10_000).catch(() => '')).split('\n'),
    })));
    const where = new Map<string, number>();
    for (const { id, lines } of answers) {
      for (const line of lines) {
        const address = /^\s*\/([\d.]+):\d+\[/.exec(line)?.[1];
        // The server's own address is the `cons` probe itself.
        if (address && address !== this.server(id).host.address) where.set(address, id);
      }
    }
    return where;
  }

  /** Stops every server and removes their data. */
  async stop(): Promise<void> {
    await run(['stop', this.dir], this.env).catch(() => {});
    await rm(this.dir, { recursive: true, force: true });
  }
}
