/**
 * A forked benchmark child (`bench/main.ts`, `bench/streams.ts`, `bench/stream-memory.ts`):
 * commands in, reports out over IPC, and an end that never hangs. Every child is killed when the
 * orchestrator exits or is interrupted.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** What every child may report besides its own reports: a failure, with the `RpcError` code if it had one. */
export interface ErrorReport {
  type: 'error';
  message: string;
  code?: number;
}

/** A child's error report, thrown by `next`. */
export class ChildFailed extends Error {
  constructor(
    message: string,
    readonly code: number | undefined,
  ) {
    super(message);
  }
}

const live = new Set<ChildProcess>();

export class Child<R extends { type: string }> {
  private readonly process: ChildProcess;
  private readonly inbox: Array<R | ErrorReport> = [];
  private wake: (() => void) | undefined;
  private exit: string | undefined;
  private readonly exited: Promise<void>;

  /** Forks `node <script> ...args`; `script` is a bundle (see bench/bundle.ts). */
  constructor(
    readonly label: string,
    script: string,
    args: string[],
    execArgv: string[] = [],
    /** Variables added to the orchestrator's environment. */
    env: Record<string, string> = {},
  ) {
    this.process = fork(script, args, { cwd: ROOT, execArgv, stdio: ['ignore', 2, 2, 'ipc'], env: { ...process.env, ...env } });
    live.add(this.process);
    this.process.on('message', (report: R | ErrorReport) => {
      this.inbox.push(report);
      this.wake?.();
    });
    this.exited = new Promise((resolve) => {
      this.process.on('exit', (code, signal) => {
        live.delete(this.process);
        this.exit = `exited with ${signal ?? `code ${code}`}`;
        this.wake?.();
        resolve();
      });
    });
  }

  /** The process id, for sampling its memory from outside. */
  get pid(): number | undefined {
    return this.process.pid;
  }

  send(command: unknown): void {
    if (this.process.connected) this.process.send(command as object);
  }

  /** The next report, which must be of `type`; an error report (as `ChildFailed`), an exit or a timeout rejects. */
  async next<T extends R['type']>(type: T, timeoutMs: number): Promise<Extract<R, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const report = this.inbox.shift();
      if (report?.type === 'error') {
        const failure = report as ErrorReport;
        throw new ChildFailed(`${this.label} failed: ${failure.message}`, failure.code);
      }
      if (report !== undefined && report.type !== type) throw new Error(`${this.label} sent ${report.type} where ${type} was expected`);
      if (report !== undefined) return report as Extract<R, { type: T }>;
      if (this.exit !== undefined) throw new Error(`${this.label} ${this.exit} before ${type}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.label}: no ${type} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** Asks the child to exit; kills it if it has not within `graceMs`. */
  async end(graceMs = 5000): Promise<void> {
    this.send({ type: 'exit' });
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Kills every child still running now. */
export function killChildren(): void {
  for (const child of live) child.kill('SIGKILL');
}

/** Kills every child still running when the orchestrator exits, fails or is interrupted. */
export function killChildrenOnExit(): void {
  const killAll = killChildren;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      killAll();
      process.exit(130);
    });
  }
}
