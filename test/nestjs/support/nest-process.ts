import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

/** Compiled with Nest's decorators: tsx reads the tsconfig from this variable, not per file. */
const tsconfig = fileURLToPath(new URL('../tsconfig.json', import.meta.url));

/** A Nest application in a child process, and what it printed. */
export interface NestProcess {
  readonly child: ChildProcess;
  /** What followed `ready ` on its first line (its address). */
  readonly address: string;
  /** Every line it printed to stdout so far. */
  readonly lines: string[];
  /** Resolves with its exit code once it has exited (null if a signal ended it). */
  readonly exited: Promise<number | null>;
}

/**
 * Starts `node --import tsx test/nestjs/apps/<app>.ts ...args` with the decorator tsconfig, resolving
 * once it printed `ready <address>`; rejects if it exits first. Its stdin is a pipe, so that it stops
 * when the test's process ends; its stderr is the test's own.
 */
export function startNestApp(app: string, args: string[]): Promise<NestProcess> {
  const script = fileURLToPath(new URL(`../apps/${app}.ts`, import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, TSX_TSCONFIG_PATH: tsconfig },
  });
  const lines: string[] = [];
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return new Promise((resolve, reject) => {
    let pending = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const complete = pending.split('\n');
      pending = complete.pop()!;
      for (const line of complete) {
        lines.push(line);
        if (line.startsWith('ready ')) resolve({ child, address: line.slice('ready '.length), lines, exited });
      }
    });
    exited.then((code) => reject(new Error(`${app} exited with ${code} before it was ready`)), () => {});
  });
}

/** Ends a child still running at the end of a test, whatever happened in it. */
export function kill(app: NestProcess | undefined): void {
  if (app !== undefined && app.child.exitCode === null && app.child.signalCode === null) app.child.kill('SIGKILL');
}
