import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { freePort } from './ports.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';

/** A standalone ZooKeeper owned by one test file, on a free loopback port. */
export interface TestZooKeeper {
  /** `127.0.0.1:<port>`, for `createZooKeeperRegistry` and `node-zookeeper-client`. */
  readonly connectString: string;
  readonly port: number;
  /** Stops the server and removes its data directory. Safe to call twice. */
  stop(): Promise<void>;
  /** Stops the server and starts it again on the same port and data (ZooKeeper down, then back). */
  restart(): Promise<void>;
  /** Stops the server but keeps its data, for a later `start()`. */
  pause(): Promise<void>;
  /** Starts a paused server again. */
  resume(): Promise<void>;
}

const script = fileURLToPath(new URL('../../scripts/zookeeper.sh', import.meta.url));
let installed: Promise<void> | undefined;

function run(args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', [script, ...args], { timeout: timeoutMs, env: { ...process.env, ZK_TICK_MS: '500' } },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`scripts/zookeeper.sh ${args.join(' ')} failed: ${stderr || error.message}`));
        else resolve(stdout.trim());
      });
  });
}

/**
 * Installs ZooKeeper if needed (once per process) and starts one on a free port in a fresh temp dir.
 * Pair every call with `stop()` in an `after` hook.
 */
export async function startZooKeeper(): Promise<TestZooKeeper> {
  installed ??= run(['install'], 300_000).then(() => undefined);
  await installed;
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-zk-'));
  let port = 0;
  let pid = 0;
  // If this process dies without stop() (an uncaught exception), the server must not outlive it.
  const killOnExit = () => {
    try {
      if (pid) process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);
  // A port found free can be taken before java binds it; try a few.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      pid = Number(await run(['start', dir, String(port)], 30_000));
      break;
    } catch (error) {
      await run(['stop', dir], 30_000).catch(() => {});
      if (attempt >= 3) {
        process.removeListener('exit', killOnExit);
        await rm(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }
  let stopped = false;
  const start = async () => {
    pid = Number(await run(['start', dir, String(port)], 30_000));
  };
  const halt = () => run(['stop', dir], 30_000).then(() => undefined);
  return {
    connectString: `127.0.0.1:${port}`,
    port,
    async stop() {
      if (stopped) return;
      stopped = true;
      await halt();
      process.removeListener('exit', killOnExit);
      await rm(dir, { recursive: true, force: true });
    },
    async restart() {
      await halt();
      await start();
    },
    pause: halt,
    resume: start,
  };
}

/**
 * One ZooKeeper server and one scratch folder for a whole test file: started before its first
 * test, stopped and removed after its last. `server()` fails the test if ZooKeeper did not start.
 */
export function zooKeeperForFile(prefix: string): { server: () => TestZooKeeper; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let zk: TestZooKeeper | undefined;
  before(async () => {
    zk = await startZooKeeper();
  }, { timeout: 360_000 });
  after(async () => {
    await zk?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { server: () => zk ?? assert.fail('ZooKeeper did not start'), dir };
}
