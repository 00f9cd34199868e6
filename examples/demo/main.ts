// `npm run demo`: starts a provider process and a consumer process and lets them talk over TCP.
// No registry server is needed: the provider tells the demo its address, which the consumer is given.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const tsx = ['--import', 'tsx'];

function exited(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

const provider = fork(here('./provider.ts'), [], { execArgv: tsx });
try {
  const address = await new Promise<string>((resolve, reject) => {
    provider.once('message', (message) => resolve((message as { address: string }).address));
    provider.once('exit', () => reject(new Error('provider exited before it listened')));
  });
  const consumer = fork(here('./consumer.ts'), [address], { execArgv: tsx });
  const consumerCode = await exited(consumer);
  const providerExit = exited(provider);
  provider.kill('SIGTERM');
  const providerCode = await providerExit;
  console.log(`[demo] consumer exited with ${consumerCode}, provider with ${providerCode}`);
  process.exitCode = consumerCode === 0 && providerCode === 0 ? 0 : 1;
} catch (error) {
  provider.kill('SIGKILL');
  throw error;
}
