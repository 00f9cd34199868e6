// `npm run demo`: three provider processes and a consumer process find each other through the
// embedded registry (a shared folder; no server to install). The consumer is given no address.
// Halfway through, the demo stops one provider with SIGTERM while the consumer keeps calling.
import { fork, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const tsx = ['--import', 'tsx'];
const say = (line: string) => console.log(`[demo] ${line}`);

function exited(child: ChildProcess): Promise<number> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

function started(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', () => reject(new Error(`process ${child.pid} exited before it was ready`)));
  });
}

// A registry folder of its own, so this run never meets providers of another run (or another demo).
const dir = await mkdtemp(join(tmpdir(), 'switchyard-demo-'));
const registry = `embedded://${pathToFileURL(dir).pathname}`;
say(`registry: ${registry}`);
// Ctrl-C reaches the children too; the folder is this process's to remove.
process.once('SIGINT', () => {
  rmSync(dir, { recursive: true, force: true });
  process.exit(130);
});

const providers = new Map<string, ChildProcess>();
const children: ChildProcess[] = [];
try {
  for (const name of ['A', 'B', 'C']) {
    const child = fork(here('./provider.ts'), [name, registry], { execArgv: tsx });
    providers.set(name, child);
    children.push(child);
  }
  await Promise.all([...providers.values()].map(started));

  const consumer = fork(here('./consumer.ts'), [registry], { execArgv: tsx });
  children.push(consumer);
  const stopped: string[] = [];
  consumer.on('message', (message: { event: string }) => {
    if (message.event !== 'stop-one' || stopped.length > 0) return;
    const name = 'B';
    const provider = providers.get(name)!;
    stopped.push(name);
    say(`stopping provider ${name} (SIGTERM) while the consumer keeps calling`);
    consumer.send({ event: 'stopping', name });
    const gone = exited(provider);
    provider.kill('SIGTERM');
    void gone.then((code) => {
      say(`provider ${name} exited with ${code}`);
      if (consumer.connected) consumer.send({ event: 'stopped', name });
    });
  });
  const consumerCode = await exited(consumer);

  const codes = await Promise.all([...providers].map(async ([name, provider]) => {
    const gone = exited(provider);
    if (!stopped.includes(name)) provider.kill('SIGTERM');
    return gone;
  }));
  say(`consumer exited with ${consumerCode}, providers with ${codes.join(', ')}`);
  process.exitCode = consumerCode === 0 && codes.every((code) => code === 0) ? 0 : 1;
} catch (error) {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  throw error;
} finally {
  await rm(dir, { recursive: true, force: true });
}
