import { spawn, type ChildProcess } from 'node:child_process';

/**
 * Starts `node --import tsx <script> ...args` (a provider fixture), resolving once it printed
 * `ready `; rejects if it exits first. Its stdin is a pipe, so that it can stop when the test's
 * process ends; its stderr is the test's own.
 */
export function startFixtureProcess(script: string, args: string[], label = args.at(-1) ?? script): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('ready ')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`${label} exited with ${code} before it was ready`)));
  });
}
