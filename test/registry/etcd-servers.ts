// Throw-away etcd servers for the etcd registry's tests, started by scripts/etcd.sh on free loopback
// ports with their data in fresh temp folders: one member, or a cluster whose members can be killed
// and started again. Every one is stopped, and its folder removed, by `stop()` or when the process exits.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePorts } from '../support/ports.js';

const script = fileURLToPath(new URL('../../scripts/etcd.sh', import.meta.url));
let installed: Promise<void> | undefined;

function run(args: string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', [script, ...args], { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) reject(new Error(`scripts/etcd.sh ${args.join(' ')} failed: ${stderr || error.message}`));
      else resolve(stdout.trim());
    });
  });
}


/** One member of a test cluster. */
export interface TestMember {
  readonly name: string;
  readonly dir: string;
  readonly clientPort: number;
  /** `127.0.0.1:<client port>`. */
  readonly host: string;
  pid: number;
}

/** A throw-away etcd: one member, or several forming one cluster. */
export interface TestEtcd {
  readonly members: readonly TestMember[];
  /** `host:port` of every member, for `createEtcdRegistry` and `etcd://` addresses. */
  readonly hosts: string[];
  /** Stops every member and removes the data. Safe to call twice. */
  stop(): Promise<void>;
  /** Stops one member (SIGTERM, waiting for it to exit), keeping its data. */
  pause(index?: number): Promise<void>;
  /** SIGKILLs one member, as a crash would; its data stays for `resume`. */
  kill(index: number): Promise<void>;
  /** Starts a paused or killed member again on its data; resolves once it is healthy. Does nothing to a running one. */
  resume(index?: number): Promise<void>;
  /** Stops a one-member etcd, deletes its data and starts it empty on the same port (all leases and keys gone). */
  wipe(): Promise<void>;
  /** The index of the member that is leader now. */
  leader(): Promise<number>;
  /** How many watch streams each member serves now (etcd's metric). */
  watchStreams(): Promise<number[]>;
}

async function metric(member: TestMember, name: string): Promise<number> {
  const response = await fetch(`http://${member.host}/metrics`);
  const text = await response.text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.slice(name.length + 1));
}

/**
 * Installs etcd if needed (once per process) and starts `size` members on free ports: `size` 1
 * is a one-member etcd, more a cluster. Pair every call with `stop()`.
 */
export async function startEtcd(size = 1): Promise<TestEtcd> {
  installed ??= run(['install'], 300_000).then(() => undefined);
  await installed;
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-etcd-'));
  let members: TestMember[] = [];
  // If this process dies without stop() (an uncaught exception), the servers must not outlive it.
  const killOnExit = () => {
    for (const member of members) {
      try {
        process.kill(member.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);
  for (let attempt = 1; ; attempt++) {
    const ports = await freePorts(size * 2);
    const clients = ports.slice(0, size);
    const peers = ports.slice(size);
    try {
      const pids = size === 1
        ? [await run(['start', dir, String(clients[0]), String(peers[0])])]
        : (await run(['start-cluster', dir, clients.join(','), peers.join(',')])).split('\n');
      members = clients.map((port, i) => ({
        name: size === 1 ? 'solo' : `m${i + 1}`, dir: size === 1 ? dir : join(dir, `m${i + 1}`), clientPort: port, host: `127.0.0.1:${port}`, pid: Number(pids[i]),
      }));
      break;
    } catch (error) {
      await run(['stop', dir]).catch(() => {});
      await rm(dir, { recursive: true, force: true });
      if (attempt >= 3) {
        process.removeListener('exit', killOnExit);
        throw error;
      }
    }
  }
  let stopped = false;
  const member = (index: number) => members[index] ?? assert.fail(`no etcd member ${index}`);
  const down = new Set<number>();
  const resume = async (index = 0) => {
    if (!down.has(index)) return;
    const one = member(index);
    one.pid = Number(await run(['restart-member', one.dir]));
    down.delete(index);
  };
  return {
    members,
    hosts: members.map((one) => one.host),
    async stop() {
      if (stopped) return;
      stopped = true;
      await run(['stop', dir]);
      process.removeListener('exit', killOnExit);
      await rm(dir, { recursive: true, force: true });
    },
    async pause(index = 0) {
      down.add(index);
      await run(['stop', member(index).dir]);
    },
    async kill(index) {
      const one = member(index);
      down.add(index);
      process.kill(one.pid, 'SIGKILL');
      // Gone once its client port refuses connections.
      await run(['stop', one.dir]);
    },
    resume,
    async wipe() {
      assert.equal(size, 1, 'wipe is for a one-member etcd');
      down.add(0);
      await run(['stop', dir]);
      await rm(join(dir, 'data'), { recursive: true, force: true });
      await resume(0);
    },
    async leader() {
      for (const [index, one] of members.entries()) {
        if ((await metric(one, 'etcd_server_is_leader').catch(() => 0)) === 1) return index;
      }
      return assert.fail('no etcd member is leader');
    },
    watchStreams: () => Promise.all(members.map((one) => metric(one, 'etcd_debugging_mvcc_watch_stream_total').catch(() => 0))),
  };
}

/**
 * One etcd for a whole test file: started before its first test, stopped and removed after its
 * last. `etcd()` fails the test if it did not start.
 */
export function etcdForFile(size = 1): { etcd: () => TestEtcd } {
  let started: TestEtcd | undefined;
  before(async () => {
    started = await startEtcd(size);
  }, { timeout: 360_000 });
  after(async () => {
    await started?.stop();
  });
  return { etcd: () => started ?? assert.fail('etcd did not start') };
}
