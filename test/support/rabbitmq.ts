import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { createInterface } from 'node:readline';
import type { TestContext } from 'node:test';
import amqplib, { type GetMessage } from 'amqplib';
import { createClient, createServer, type Client, type ClientOptions, type ServiceProxy } from '../../src/index.js';
import { builtinServiceIds } from '../../src/introspection/index.js';
import { CalculatorService, calculatorImpl, newLog, onCleanup, waitUntil, type Calculator, type StartServerOptions, type StartedServer } from './calculator.js';

/** The machine's broker, as the tests use it. */
export const BROKER = 'amqp://guest:guest@127.0.0.1:5672';
const HOST = '127.0.0.1';
const PORT = 5672;
const START_TIMEOUT_MS = 60_000;

let ready: Promise<void> | undefined;

/**
 * Resolves once RabbitMQ answers on 127.0.0.1:5672. If nothing answers and RabbitMQ is installed,
 * starts it (`rabbitmq-server -detached`, the machine's default node) and waits for its listener,
 * which opens only once the broker has booted. The broker is shared: tests never stop it.
 */
export function ensureRabbitMQ(): Promise<void> {
  ready ??= (async () => {
    if (await probe()) return;
    const server = ['/usr/sbin/rabbitmq-server', '/usr/lib/rabbitmq/bin/rabbitmq-server'].find((path) => existsSync(path));
    if (server === undefined) throw new Error('RabbitMQ is not running on 127.0.0.1:5672 and rabbitmq-server is not installed (apt-get install -y rabbitmq-server)');
    await run(server, ['-detached'], 30_000);
    const until = Date.now() + START_TIMEOUT_MS;
    while (!(await probe())) {
      if (Date.now() > until) throw new Error(`RabbitMQ did not open 127.0.0.1:5672 within ${START_TIMEOUT_MS} ms of starting`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  ready.catch(() => {
    ready = undefined;
  });
  return ready;
}

/** Sends the AMQP 0-9-1 protocol header; a broker answers with a method frame (type 1). */
function probe(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect({ host: HOST, port: PORT });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 1000);
    socket.once('connect', () => socket.write(Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1])));
    socket.once('data', (chunk: Buffer) => done(chunk[0] === 1));
    socket.once('error', () => done(false));
  });
}

function run(command: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${stderr || error.message}`));
      else resolve(stdout);
    });
  });
}

/** A name no other test (or session) uses: `<prefix>-<random>`. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/** `amqp://guest:guest@127.0.0.1:5672/?<options>` */
export function brokerUrl(options: Record<string, string | number>): string {
  const query = new URLSearchParams(Object.entries(options).map(([key, value]): [string, string] => [key, String(value)]));
  return `${BROKER}/?${query.toString()}`;
}

/**
 * Deletes what Switchyard declared for `exchange` and `topics` (and `servers`' queues), whether or
 * not it still exists. Fanout queues are exclusive and go with their connections.
 */
export async function deleteTopology(exchange: string, topics: string[], servers: string[] = []): Promise<void> {
  const connection = await amqplib.connect(BROKER);
  connection.on('error', () => undefined);
  try {
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    for (const topic of topics) {
      await channel.deleteQueue(`${exchange}.${topic}`);
      for (const server of servers) await channel.deleteQueue(`${exchange}.${topic}.${server}`);
      await channel.deleteExchange(`${exchange}.${topic}_fanout`);
    }
    await channel.deleteExchange(exchange);
    await channel.deleteExchange(deadLetterExchangeOf(exchange));
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** Messages waiting in a queue, or undefined if it does not exist. */
export async function queueDepth(queue: string): Promise<number | undefined> {
  const connection = await amqplib.connect(BROKER);
  connection.on('error', () => undefined);
  try {
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    return (await channel.checkQueue(queue)).messageCount;
  } catch {
    return undefined;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/**
 * Force-closes, on the broker's side, every connection whose client-given name contains `marker`
 * (`rabbitmqctl close_connection`), as a broker restart or a network cut would end them. Only this
 * test's connections are touched: the broker is shared. Resolves with how many were closed.
 */
export async function closeConnectionsNamed(marker: string): Promise<number> {
  const listing = await run('rabbitmqctl', ['list_connections', '-q', '--no-table-headers', 'pid', 'client_properties'], 30_000);
  const pids = listing.split('\n')
    .filter((line) => line.includes(`{"connection_name","`) && line.includes(marker))
    .map((line) => line.split('\t')[0]!.trim());
  await Promise.all(pids.map((pid) => run('rabbitmqctl', ['close_connection', pid, 'test: broker connection cut'], 30_000)));
  return pids.length;
}

/**
 * One test's corner of the shared broker: a fresh exchange name, the addresses that use it, and a
 * cleanup (registered with `t.after` through `onCleanup`) that deletes every queue and exchange
 * made for the topics and servers the test used.
 */
export class BrokerScope {
  readonly exchange = uniqueName('sy-test');
  // Every server also declares the queues of its built-in services (health, introspection).
  private readonly topics = new Set<string>(builtinServiceIds);
  private readonly servers = new Set<string>();

  /** `amqp://guest:guest@127.0.0.1:5672/?exchange=<this test's>&server=<server>&...` */
  url(options: Record<string, string | number> = {}): string {
    if (options.server !== undefined) this.servers.add(String(options.server));
    return brokerUrl({ exchange: this.exchange, ...options });
  }

  /** Records topics (service ids) whose queues and fanout exchange the cleanup deletes. */
  uses(...topics: string[]): this {
    for (const topic of topics) this.topics.add(topic);
    return this;
  }

  cleanup(): Promise<void> {
    return deleteTopology(this.exchange, [...this.topics], [...this.servers]);
  }
}

/** A broker scope for test `t`, its topology deleted when the test ends (after its servers and clients). */
export async function brokerScope(t: TestContext): Promise<BrokerScope> {
  await ensureRabbitMQ();
  const scope = new BrokerScope().uses(CalculatorService.id);
  onCleanup(t, () => scope.cleanup());
  return scope;
}

/** A Calculator server named `server` on the scope's exchange; closed when the test ends. */
export async function startAmqpServer(t: TestContext, scope: BrokerScope, server: string, options: StartServerOptions & { query?: Record<string, string | number> } = {}): Promise<StartedServer> {
  const { implementation = calculatorImpl, setup, query = {}, ...serverOptions } = options;
  const log = newLog();
  const started = createServer({ registry: false, ...serverOptions, listen: [scope.url({ server, ...query })] });
  started.provide(CalculatorService, implementation(log));
  setup?.(started);
  onCleanup(t, () => started.close({ timeoutMs: 2000 }));
  const [address] = await started.listen();
  return { server: started, address: address!, log };
}

/** A client of the scope's exchange with a Calculator proxy; closed when the test ends. */
export function startAmqpClient(t: TestContext, scope: BrokerScope, options: Omit<ClientOptions, 'url'> = {}): { client: Client; calc: ServiceProxy<Calculator> } {
  const client = createClient({ ...options, url: scope.url() });
  onCleanup(t, () => client.close({ timeoutMs: 2000 }));
  return { client, calc: client.proxy(CalculatorService) };
}

/** The fanout exchange a server's queues dead-letter to, by default. */
export function deadLetterExchangeOf(exchange: string): string {
  return `${exchange}.dead-letter`;
}

/**
 * A queue of the test's own bound to the scope's dead-letter exchange (declared here first, as the
 * servers declare it), deleted when the test ends. `take()` resolves with the next message in it.
 */
export async function deadLetterQueue(t: TestContext, scope: BrokerScope): Promise<{ take(timeoutMs?: number): Promise<GetMessage> }> {
  const connection = await amqplib.connect(BROKER);
  connection.on('error', () => undefined);
  const channel = await connection.createChannel();
  const exchange = deadLetterExchangeOf(scope.exchange);
  await channel.assertExchange(exchange, 'fanout', { durable: false, autoDelete: false });
  const { queue } = await channel.assertQueue(uniqueName('sy-test-dlq'), { durable: false, autoDelete: false });
  await channel.bindQueue(queue, exchange, '');
  onCleanup(t, async () => {
    await channel.deleteQueue(queue).catch(() => undefined);
    await connection.close().catch(() => undefined);
  });
  return {
    async take(timeoutMs = 10_000) {
      let message: GetMessage | false = false;
      for (const until = Date.now() + timeoutMs; message === false; await new Promise((resolve) => setTimeout(resolve, 20))) {
        message = await channel.get(queue, { noAck: true });
        if (message === false && Date.now() > until) throw new Error(`nothing was dead-lettered within ${timeoutMs} ms`);
      }
      return message;
    },
  };
}

/** A server running in a child process that prints lines as it works (see test/amqp/fixtures). */
export interface ServerProcess {
  /** Every line printed so far. */
  readonly printed: string[];
  /** Resolves once `line` has been printed. */
  next(line: string, timeoutMs?: number): Promise<void>;
  /** Kills the process at once, as a crash would, and waits for it to exit. */
  crash(): Promise<void>;
}

/**
 * Starts `fixture` (a file under test/amqp/fixtures) with `url` in a process of its own and waits
 * for it to print `ready`. The process is killed when the test ends, before the scope's cleanup
 * deletes the queues it would otherwise declare again.
 */
export async function startServerProcess(t: TestContext, fixture: string, url: string): Promise<ServerProcess> {
  const path = new URL(`../amqp/fixtures/${fixture}`, import.meta.url).pathname;
  const child = spawn(process.execPath, ['--import', 'tsx', path, url], { stdio: ['ignore', 'pipe', 'inherit'] });
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  onCleanup(t, async () => {
    if (!alive()) return;
    child.kill('SIGKILL');
    await once(child, 'exit');
  });
  const printed: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => printed.push(line));
  const next = (line: string, timeoutMs = 20_000): Promise<void> => waitUntil(() => printed.includes(line), timeoutMs);
  await next('ready');
  return {
    printed,
    next,
    async crash() {
      if (!alive()) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
  };
}
