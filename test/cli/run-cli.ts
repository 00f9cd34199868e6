// Runs the real `switchyard` command in a child process, from the sources (through tsx), so that
// the tests need no fresh build.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI_SOURCE = fileURLToPath(new URL('../../src/cli/switchyard.ts', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `switchyard <args>` to its end (killed after `timeoutMs`); never rejects on a failing status. */
export async function runCli(args: string[], timeoutMs = 30_000): Promise<CliResult> {
  return collect(spawn(process.execPath, ['--import', 'tsx', CLI_SOURCE, ...args], { cwd: ROOT }), timeoutMs);
}

/** Runs any node script (the built binary) the same way. */
export async function runNode(script: string, args: string[], timeoutMs = 30_000): Promise<CliResult> {
  return collect(spawn(process.execPath, [script, ...args], { cwd: ROOT }), timeoutMs);
}

async function collect(child: ChildProcess, timeoutMs: number): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  return { code, signal, stdout, stderr };
}

/** A `switchyard` process that keeps running (watch): its output lines as they come. */
export interface RunningCli {
  readonly child: ChildProcess;
  /** Resolves with the first line, among those not matched before, that `match` accepts. */
  line(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Everything written to standard error so far. */
  stderr(): string;
  /** Sends `signal` and resolves with the exit status. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `switchyard <args>` and kills it when the test ends if it is still running. */
export function startCli(t: TestContext, args: string[]): RunningCli {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI_SOURCE, ...args], { cwd: ROOT });
  const closed = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await closed;
    }
  });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let errors = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (errors += chunk));
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    for (const wake of waiters) wake();
  });
  const matched = new Set<number>();
  return {
    child,
    line(match, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const look = () => {
          const index = lines.findIndex((line, at) => !matched.has(at) && match(line));
          if (index < 0) return;
          matched.add(index);
          done();
          resolve(lines[index]!);
        };
        const done = () => {
          waiters.delete(look);
          clearTimeout(timer);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no matching line within ${timeoutMs} ms; output so far:\n${lines.join('\n')}\nstderr:\n${errors}`));
        }, timeoutMs);
        waiters.add(look);
        look();
      });
    },
    stderr: () => errors,
    async stop(signal = 'SIGINT') {
      child.kill(signal);
      const [code, got] = await closed;
      return { code, signal: got };
    },
  };
}
