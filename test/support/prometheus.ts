import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { freePort } from './ports.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A Prometheus server owned by one test, scraping admin listeners every second. */
export interface TestPrometheus {
  /** `http://127.0.0.1:<port>`: the web UI and the HTTP API. */
  readonly url: string;
  /**
   * The value of an instant PromQL query: the one sample of a vector or a scalar, undefined when
   * the vector is empty (nothing scraped yet). Throws when the vector has several series: aggregate
   * them (`sum(...)`).
   */
  query(promql: string): Promise<number | undefined>;
  /** Asks `promql` until its value is `expected`; rejects with the last value after `timeoutMs` (default 30 s). */
  until(promql: string, expected: number, timeoutMs?: number): Promise<void>;
  /** Kills the server and removes its config and data. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartPrometheusOptions {
  /** What to scrape: admin listener URLs (`http://127.0.0.1:9464`) or `host:port`; path `/metrics`. */
  targets: readonly string[];
  /** Sent as `authorization: Bearer <token>` with each scrape, for a gated admin listener. */
  bearerToken?: string;
}

const script = fileURLToPath(new URL('../../scripts/prometheus.sh', import.meta.url));
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;
let installed: Promise<string> | undefined;

/**
 * Installs Debian's `prometheus` if it is not there (once per process; `apt-get`, so root and a
 * reachable mirror or apt's cache) and resolves to the binary's path.
 */
export function installPrometheus(): Promise<string> {
  installed ??= new Promise<string>((resolve, reject) => {
    execFile('bash', [script, 'install'], { timeout: 300_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`scripts/prometheus.sh install failed: ${stderr.trim().split('\n').slice(-5).join('\n') || error.message}`));
      else resolve(stdout.trim());
    });
  });
  return installed;
}

/**
 * Why Prometheus cannot run here (it is not installed and cannot be: no network, not root), or
 * undefined when it can. For `t.skip`: a test skips only for this, never because Prometheus failed.
 */
export async function prometheusUnavailable(): Promise<string | undefined> {
  try {
    await installPrometheus();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/**
 * Installs Prometheus if needed and starts one on a free loopback port with a fresh data directory,
 * scraping `targets` every second. Pair every call with `stop()` (in `t.after`).
 *
 * ```ts
 * const prometheus = await startPrometheus({ targets: [admin.address] });
 * t.after(() => prometheus.stop());
 * await prometheus.until('sum(switchyard_server_calls_total)', 3);
 * ```
 */
export async function startPrometheus(options: StartPrometheusOptions): Promise<TestPrometheus> {
  const binary = await installPrometheus();
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-prometheus-'));
  const config = join(dir, 'prometheus.yml');
  await writeFile(config, configText(options));
  let child: ChildProcess | undefined;
  // If this process dies without stop() (an uncaught exception), the server must not outlive it.
  const killOnExit = (): void => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);
  let url = '';
  // A port found free can be taken before Prometheus binds it; try a few.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const started = launch(binary, config, dir, port);
    child = started.child;
    try {
      await waitReady(url, started);
      break;
    } catch (error) {
      await halt(started.child);
      if (attempt >= 3) {
        process.removeListener('exit', killOnExit);
        await rm(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }
  const running = child;
  let stopped: Promise<void> | undefined;
  const query = (promql: string): Promise<number | undefined> => instantQuery(url, promql);
  return {
    url,
    query,
    async until(promql, expected, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let last: number | undefined;
      while ((last = await query(promql)) !== expected) {
        if (Date.now() > deadline) throw new Error(`Prometheus: ${promql} was ${last} after ${timeoutMs} ms, expected ${expected}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    },
    stop() {
      stopped ??= (async () => {
        await halt(running);
        process.removeListener('exit', killOnExit);
        await rm(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

function configText(options: StartPrometheusOptions): string {
  const targets = options.targets.map((target) => JSON.stringify(target.includes('://') ? new URL(target).host : target));
  const auth = options.bearerToken === undefined ? [] : ['    authorization:', '      type: Bearer', `      credentials: ${JSON.stringify(options.bearerToken)}`];
  return [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    '  evaluation_interval: 1s',
    'scrape_configs:',
    '  - job_name: switchyard',
    '    metrics_path: /metrics',
    ...auth,
    '    static_configs:',
    `      - targets: [${targets.join(', ')}]`,
    '',
  ].join('\n');
}

interface Launched {
  readonly child: ChildProcess;
  /** The last lines Prometheus wrote, for errors. */
  readonly output: () => string;
  readonly exited: Promise<unknown>;
}

function launch(binary: string, config: string, dir: string, port: number): Launched {
  const child = spawn(binary, [
    `--config.file=${config}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const keep = (chunk: Buffer): void => {
    lines.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''));
    lines.splice(0, Math.max(0, lines.length - 20));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = once(child, 'exit').catch(() => undefined);
  child.once('error', () => {});
  return { child, output: () => lines.join('\n'), exited };
}

async function waitReady(url: string, started: Launched): Promise<void> {
  let gone = false;
  void started.exited.then(() => (gone = true));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (gone) throw new Error(`Prometheus exited during start:\n${started.output()}`);
    try {
      const response = await fetch(`${url}/-/ready`);
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`Prometheus not ready at ${url} after ${READY_TIMEOUT_MS} ms:\n${started.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function halt(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

interface QueryAnswer {
  status: string;
  error?: string;
  data?: { resultType: string; result: unknown };
}

async function instantQuery(url: string, promql: string): Promise<number | undefined> {
  const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const answer = (await response.json()) as QueryAnswer;
  if (answer.status !== 'success' || answer.data === undefined) throw new Error(`Prometheus query ${promql} failed: ${answer.error ?? response.status}`);
  const { resultType, result } = answer.data;
  if (resultType === 'scalar') return Number((result as [number, string])[1]);
  if (resultType !== 'vector') throw new Error(`Prometheus query ${promql} answered a ${resultType}; ask for an instant vector or a scalar`);
  const samples = result as Array<{ metric: Record<string, string>; value: [number, string] }>;
  if (samples.length === 0) return undefined;
  if (samples.length > 1) throw new Error(`Prometheus query ${promql} answered ${samples.length} series; aggregate them (sum(...))`);
  return Number(samples[0]!.value[1]);
}
