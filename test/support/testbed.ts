import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * A test bed of hosts on this machine (scripts/netns.sh): each host a network namespace with an
 * address of its own on one bridge, links that can be slowed, made lossy or cut, and processes run
 * in a host by `ip netns exec`. Needs root; `testbedUnavailable()` says why not, for `skip`.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const netnsScript = `${root}scripts/netns.sh`;

/** One host of the bed: its namespace and its address on the bridge. */
export interface Host {
  readonly name: string;
  readonly namespace: string;
  readonly address: string;
}

/** A line a process printed on stdout: parsed JSON if it was an object, else the text. */
export type Message = Record<string, unknown> & { readonly type?: string };

let unavailable: string | undefined | null = null;

/** Why this machine cannot run a test bed (not root, no `ip`, no namespaces), or undefined when it can. */
export function testbedUnavailable(): string | undefined {
  if (unavailable !== null) return unavailable;
  if (process.platform !== 'linux') return (unavailable = 'the test bed needs Linux network namespaces');
  if (process.getuid?.() !== 0) return (unavailable = 'the test bed needs root (network namespaces); run as root to include these tests');
  const check = spawnSync('bash', [netnsScript, 'check'], { encoding: 'utf8', timeout: 20_000 });
  unavailable = check.status === 0 ? undefined : `the test bed cannot run here: ${(check.stdout + check.stderr).trim() || `netns.sh check exited ${check.status}`}`;
  return unavailable;
}

/**
 * A process running in one host. Its stdout is read as lines (JSON objects become messages); its
 * stdin is a pipe, whose end tells a fixture that the test has gone. Its stderr's last lines are
 * kept for failure messages.
 */
export class HostProcess {
  readonly messages: Message[] = [];
  readonly exited: Promise<number | null>;
  private readonly waiters = new Set<() => void>();
  private stderr = '';
  private exitCode: number | null | undefined;
  private nextId = 1;

  constructor(readonly label: string, readonly host: Host, private readonly child: ChildProcess) {
    let pending = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      let newline;
      while ((newline = pending.indexOf('\n')) >= 0) {
        this.take(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-4_000);
    });
    // A fixture gone before the test wrote to it must not crash the test with EPIPE.
    child.stdin!.on('error', () => {});
    this.exited = new Promise((resolve) => child.once('exit', (code) => {
      this.exitCode = code;
      this.wake();
      resolve(code);
    }));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** The last lines the process wrote to stderr. */
  get errorOutput(): string {
    return this.stderr;
  }

  /** Writes one JSON line to the process's stdin. */
  send(message: object): void {
    if (this.running) this.child.stdin!.write(`${JSON.stringify(message)}\n`);
  }

  /** Sends a command with an id and resolves with the message answering it (`{ id, ... }`). */
  async request(command: object, timeoutMs = 30_000): Promise<Message> {
    const id = this.nextId++;
    this.send({ ...command, id });
    return this.waitFor((message) => message.id === id, timeoutMs, `an answer to ${JSON.stringify(command)}`);
  }

  /**
   * The first message from index `from` on (default: any so far or to come) that matches; fails
   * after `timeoutMs`, or at once if the process exits first.
   */
  waitFor(match: (message: Message) => boolean, timeoutMs: number, what = 'a message', from = 0): Promise<Message> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        for (let i = from; i < this.messages.length; i++) {
          if (match(this.messages[i]!)) {
            done();
            resolve(this.messages[i]!);
            return true;
          }
        }
        if (!this.running) {
          done();
          reject(new Error(`${this.label} exited (${this.exitCode}) while the test waited for ${what}; stderr:\n${this.stderr}`));
          return true;
        }
        return false;
      };
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
      };
      const wake = () => void check();
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.label}: no ${what} within ${timeoutMs} ms; stderr:\n${this.stderr}`));
      }, timeoutMs);
      this.waiters.add(wake);
      check();
    });
  }

  /** Sends a signal to the process itself (`ip netns exec` runs it under its own pid). */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.running) this.child.kill(signal);
  }

  /** Ends stdin, then SIGTERM, then SIGKILL, until the process has exited. */
  async stop(graceMs = 3_000): Promise<void> {
    if (!this.running) return;
    this.child.stdin!.end();
    for (const signal of [undefined, 'SIGTERM', 'SIGKILL'] as const) {
      if (signal) this.kill(signal);
      const timer = new Promise((resolve) => setTimeout(resolve, graceMs).unref());
      await Promise.race([this.exited, timer]);
      if (!this.running) return;
    }
  }

  private take(line: string): void {
    if (line.trim() === '') return;
    let message: Message;
    try {
      const parsed: unknown = JSON.parse(line);
      message = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Message) : { type: 'text', text: line };
    } catch {
      message = { type: 'text', text: line };
    }
    this.messages.push(message);
    this.wake();
  }

  private wake(): void {
    for (const wake of [...this.waiters]) wake();
  }
}

/** One run of scripts/netns.sh: its hosts, the processes started in them, and their teardown. */
export class Testbed {
  private readonly hosts = new Map<string, Host>();
  private readonly processes = new Set<HostProcess>();
  private readonly env: NodeJS.ProcessEnv;
  private readonly tearDownOnExit = () => {
    // A test process that exits without `down()` (an uncaught error) still removes its run.
    try {
      execFileSync('bash', [netnsScript, 'down'], { env: this.env, stdio: 'ignore', timeout: 30_000 });
    } catch {
      // `gc` of a later run removes what is left.
    }
  };
  private closed = false;

  private constructor(readonly run: string) {
    this.env = { ...process.env, NETNS_RUN: run, NETNS_OWNER_PID: String(process.pid) };
    process.once('exit', this.tearDownOnExit);
  }

  /** Starts a run with a fresh id, after removing runs whose test process died without tearing down. */
  static async create(): Promise<Testbed> {
    const reason = testbedUnavailable();
    if (reason) throw new Error(reason);
    await netns(process.env, ['gc']);
    return new Testbed(`t${randomBytes(4).toString('hex').slice(0, 7)}`);
  }

  /** Adds hosts (bridge first, on the first call); names are [a-z][a-z0-9]*. */
  async addHosts(...names: string[]): Promise<Host[]> {
    const out = await netns(this.env, ['up', ...names]);
    for (const line of out.split('\n').filter(Boolean)) {
      const [name, address] = line.split(' ');
      this.hosts.set(name!, { name: name!, namespace: `sy-${this.run}-${name}`, address: address! });
    }
    return names.map((name) => this.host(name));
  }

  /** A folder of the run's own (under /run), removed with the run by `down()` or a later `gc`. */
  async dir(): Promise<string> {
    return (await netns(this.env, ['dir'])).trim();
  }

  host(name: string): Host {
    const host = this.hosts.get(name);
    if (!host) throw new Error(`no host ${name} in test bed ${this.run}`);
    return host;
  }

  /** Runs `command` in `host`; the process is stopped by `down()` if the test has not stopped it. */
  spawn(host: Host, command: string, args: readonly string[], label = `${command} on ${host.name}`): HostProcess {
    if (this.closed) throw new Error('the test bed is down');
    const child = spawn('ip', ['netns', 'exec', host.namespace, command, ...args], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
    const started = new HostProcess(label, host, child);
    this.processes.add(started);
    void started.exited.then(() => this.processes.delete(started));
    return started;
  }

  /** Runs a TypeScript file of this repository (`node --import tsx`) in `host`. */
  node(host: Host, script: string, args: readonly string[], label = `${script.split('/').at(-1)} on ${host.name}`): HostProcess {
    return this.spawn(host, process.execPath, ['--import', 'tsx', script, ...args], label);
  }

  /** tc-netem arguments on what `host` sends, e.g. `netem(h, 'delay', '200ms')` or `netem(h, 'loss', '5%')`. */
  async netem(host: Host, ...args: string[]): Promise<void> {
    await netns(this.env, ['netem', host.name, ...args]);
  }

  /** Every IP packet to and from `host` is dropped: no reset, no ICMP, only silence. */
  async blackhole(host: Host): Promise<void> {
    await netns(this.env, ['blackhole', host.name]);
  }

  /** Removes the blackhole and netem of `host`. */
  async heal(host: Host): Promise<void> {
    await netns(this.env, ['heal', host.name]);
  }

  /** Stops every process started here, then removes the namespaces, the bridge and the state. */
  async down(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.processes].map((started) => started.stop(1_000)));
    await netns(this.env, ['down']);
    process.removeListener('exit', this.tearDownOnExit);
  }
}

function netns(env: NodeJS.ProcessEnv, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', [netnsScript, ...args], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`scripts/netns.sh ${args.join(' ')} failed: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
  });
}

/**
 * A test bed for one test file: created before its first test, torn down after its last (and on
 * process exit). `skip` is the reason to skip the file's tests, undefined when they can run.
 */
export function testbedForFile(): { bed: () => Testbed; skip: string | undefined } {
  const skip = testbedUnavailable();
  let bed: Testbed | undefined;
  if (!skip) {
    before(async () => {
      bed = await Testbed.create();
    });
    after(() => bed?.down());
  }
  return {
    bed: () => {
      if (!bed) throw new Error('the test bed did not start');
      return bed;
    },
    skip,
  };
}
