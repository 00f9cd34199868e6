/**
 * A RabbitMQ node of the test's own with a TLS listener, for `amqps://`. The machine's broker
 * (127.0.0.1:5672) has none and is left alone: this node has its own name, its own data, log and
 * pid paths in a temporary folder owned by the `rabbitmq` user, its own distribution port and its
 * own AMQP-over-TLS port, and only that listener (no plaintext one). It asks clients for a
 * certificate signed by the test CA (`verify_peer`), and refuses those without one if
 * `requireClientCert`. Booting takes 5 to 8 s here: start one per test file, in `before`, and
 * stop it in `after`. It shares epmd with the machine's broker; epmd is stopped only if it was
 * not running before, and `epmd -kill` refuses while any node is still registered.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { freePorts } from './ports.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { certificates } from './certs.js';

export interface TlsBroker {
  /** The Erlang node name, e.g. `switchyard-tls-1a2b3c4d5e@localhost`. */
  readonly node: string;
  readonly port: number;
  /** `amqps://guest:guest@127.0.0.1:<port>` (guest may log in from loopback only). */
  readonly url: string;
  /** `<url>/?<options>`: an address for servers and clients. */
  address(options: Record<string, string | number>): string;
  /** Stops the node, waits for it to exit, and removes its folder. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 60_000;
const SERVER = ['/usr/sbin/rabbitmq-server', '/usr/lib/rabbitmq/bin/rabbitmq-server'];
const CTL = ['/usr/sbin/rabbitmqctl', '/usr/lib/rabbitmq/bin/rabbitmqctl'];

export async function startTlsBroker(options: { requireClientCert?: boolean } = {}): Promise<TlsBroker> {
  const server = SERVER.find((path) => existsSync(path));
  const ctl = CTL.find((path) => existsSync(path));
  if (server === undefined || ctl === undefined) throw new Error('rabbitmq-server is not installed (apt-get install -y rabbitmq-server)');
  const certs = certificates();
  const dir = ownedFolder();
  const node = `switchyard-tls-${randomBytes(5).toString('hex')}@localhost`;
  const [port, distPort] = (await freePorts(2)) as [number, number];
  // The rabbitmq user cannot read the certificates' folder: copies go into the node's own.
  copyFileSync(certs.caCert, join(dir, 'ca.pem'));
  copyFileSync(certs.serverCert, join(dir, 'cert.pem'));
  copyFileSync(certs.serverKey, join(dir, 'key.pem'));
  writeFileSync(join(dir, 'rabbitmq.conf'), [
    'listeners.tcp = none',
    `listeners.ssl.default = ${HOST}:${port}`,
    `ssl_options.cacertfile = ${join(dir, 'ca.pem')}`,
    `ssl_options.certfile = ${join(dir, 'cert.pem')}`,
    `ssl_options.keyfile = ${join(dir, 'key.pem')}`,
    'ssl_options.verify = verify_peer',
    `ssl_options.fail_if_no_peer_cert = ${options.requireClientCert === true}`,
    '',
  ].join('\n'));
  writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
  handToRabbitmq(dir);

  const epmdWasRunning = await succeeds('epmd', ['-names']);
  const pidFile = join(dir, 'rabbitmq.pid');
  const env = {
    ...process.env,
    RABBITMQ_NODENAME: node,
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_PID_FILE: pidFile,
  };
  const stop = async (): Promise<void> => {
    // `stop <pid file>` returns once the node's OS process has exited.
    const stopped = await succeeds(ctl, ['-n', node, 'stop', pidFile], 60_000);
    if (!stopped) killFromPidFile(pidFile);
    if (!epmdWasRunning) await succeeds('epmd', ['-kill']);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await run(server, ['-detached'], env, 30_000);
    const until = Date.now() + START_TIMEOUT_MS;
    while (!(await probe(port, certs.read(certs.caCert), certs.read(certs.clientKey), certs.read(certs.clientCert)))) {
      if (Date.now() > until) throw new Error(`the TLS broker ${node} did not open ${HOST}:${port} within ${START_TIMEOUT_MS} ms; its log:\n${logTail(dir)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
  const url = `amqps://guest:guest@${HOST}:${port}`;
  return {
    node,
    port,
    url,
    address: (query) => `${url}/?${new URLSearchParams(Object.entries(query).map(([key, value]): [string, string] => [key, String(value)])).toString()}`,
    stop,
  };
}

/** A temporary folder the rabbitmq user owns (the node writes its data and logs there). */
function ownedFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-rabbitmq-tls-'));
  const user = process.getuid?.();
  if (user !== 0 && user !== rabbitmqIds().uid) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error('starting a RabbitMQ node of the test\'s own needs root or the rabbitmq user (the node runs as rabbitmq)');
  }
  return dir;
}

function handToRabbitmq(dir: string): void {
  if (process.getuid?.() !== 0) return;
  const { uid, gid } = rabbitmqIds();
  chownSync(dir, uid, gid);
  for (const name of readdirSync(dir)) chownSync(join(dir, name), uid, gid);
}

function rabbitmqIds(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'rabbitmq'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** AMQP over TLS: a TLS handshake, then the AMQP 0-9-1 header; a broker answers with a method frame (type 1). */
function probe(port: number, ca: Buffer, key: Buffer, cert: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: HOST, port, ca, key, cert, servername: 'localhost' });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 1000);
    socket.once('secureConnect', () => socket.write(Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1])));
    socket.once('data', (chunk: Buffer) => done(chunk[0] === 1));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env, timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${stderr || error.message}`));
      else resolve(stdout);
    });
  });
}

function succeeds(command: string, args: string[], timeoutMs = 10_000): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: timeoutMs }, (error) => resolve(error === null));
  });
}

/** The node's own process only, by the pid it wrote. */
function killFromPidFile(pidFile: string): void {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 1) process.kill(pid, 'SIGKILL');
  } catch {
    // no pid file (the node never started), or the process is gone already
  }
}

function logTail(dir: string): string {
  try {
    const logs = join(dir, 'log');
    return readdirSync(logs).filter((name) => name.endsWith('.log')).map((name) => readFileSync(join(logs, name), 'utf8').split('\n').slice(-30).join('\n')).join('\n');
  } catch {
    return '(no log)';
  }
}
