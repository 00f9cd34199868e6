import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import { parseAddress } from '../transport/address.js';
import { FaultControl, watchFaults, type LinkFaults } from './faults.js';
import { Link } from './link.js';

export interface FaultProxyOptions {
  /** The real server, e.g. `tcp://127.0.0.1:41234`; any protocol over TCP works, the bytes are not read. */
  target: string;
  /** Faults in force from the first connection. */
  faults?: LinkFaults;
  /** Seeds the jitter; default a random seed, shown as `proxy.faults.seed`. */
  seed?: number;
}

/** A TCP proxy between clients and one server, whose link faults can be changed while it runs. */
export interface FaultProxy extends AsyncDisposable {
  /** Where clients connect: the target's scheme at 127.0.0.1 and the proxy's port. */
  readonly address: string;
  readonly faults: FaultControl<LinkFaults>;
  /** Connections open through the proxy now. */
  readonly connections: number;
  /** Resets every open connection (both sides hear ECONNRESET); new ones are accepted. */
  reset(): void;
  /** Resets what is open and stops listening. */
  close(): Promise<void>;
}

/** Bytes a link may hold before the proxy stops reading the side that sends them. */
const HIGH_WATER = 1024 * 1024;

/**
 * Starts a proxy on 127.0.0.1:0 in front of a real server, for reliability tests over real sockets:
 * latency and jitter, a bandwidth limit, a blackhole (bytes stop, connections stay open) and
 * resets. Every connection through it gets a connection of its own to the target.
 *
 * ```ts
 * await using proxy = await faultProxy({ target: server.address, faults: { latencyMs: 50 } });
 * const client = createClient({ url: proxy.address });
 * proxy.faults.update({ blackhole: true });   // calls now wait for their deadlines
 * ```
 */
export async function faultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const { protocol, host, port } = parseAddress(options.target);
  const faults = new FaultControl<LinkFaults>(options.faults, options.seed);
  const open = new Set<ProxiedConnection>();
  const server: Server = createServer((socket) => {
    if (faults.current.dead === true) {
      socket.resetAndDestroy();
      return;
    }
    const connection = new ProxiedConnection(socket, connect({ host, port }), faults);
    open.add(connection);
    void connection.closed.then(() => open.delete(connection));
  });
  const stopWatching = watchFaults(faults, () => {
    for (const connection of open) {
      if (faults.current.dead === true) connection.reset();
      else connection.wake();
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const bound = server.address();
  if (typeof bound !== 'object' || bound === null) throw new RpcError(Code.INTERNAL, 'the fault proxy bound no port');
  let closing: Promise<void> | undefined;
  const proxy: FaultProxy = {
    address: `${protocol}://127.0.0.1:${bound.port}`,
    faults,
    get connections() {
      return open.size;
    },
    reset() {
      for (const connection of [...open]) connection.reset();
    },
    close() {
      closing ??= (async () => {
        stopWatching();
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        proxy.reset();
        await Promise.all([stopped, ...[...open].map((connection) => connection.closed)]);
      })();
      return closing;
    },
    [Symbol.asyncDispose]() {
      return proxy.close();
    },
  };
  return proxy;
}

/** One client connection and its connection to the target, each direction through a link. */
class ProxiedConnection {
  readonly closed: Promise<void>;
  private readonly up: Link;
  private readonly down: Link;
  private resetting = false;

  constructor(
    private readonly client: Socket,
    private readonly upstream: Socket,
    faults: FaultControl<LinkFaults>,
  ) {
    this.up = pipe(client, upstream, faults);
    this.down = pipe(upstream, client, faults);
    // One side failing (the target refusing, a reset) takes the other down with it, as a reset.
    const onError = (): void => this.reset();
    client.on('error', onError);
    upstream.on('error', onError);
    this.closed = Promise.all([closeOf(client), closeOf(upstream)]).then(() => undefined);
  }

  wake(): void {
    this.up.wake();
    this.down.wake();
  }

  reset(): void {
    if (this.resetting) return;
    this.resetting = true;
    this.up.close();
    this.down.close();
    if (!this.client.destroyed) this.client.resetAndDestroy();
    if (!this.upstream.destroyed) this.upstream.resetAndDestroy();
  }
}

/** Settles when `socket` has closed, whatever error it closed with (the proxy reports none). */
function closeOf(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.once('close', () => resolve()));
}

/**
 * Moves what `from` reads to `to` through a link; stops reading `from` while the link or `to` holds
 * too much, so that a blackhole or a slow link pushes back on the sender instead of filling memory.
 */
function pipe(from: Socket, to: Socket, faults: FaultControl<LinkFaults>): Link {
  let waitingForDrain = false;
  const resume = (): void => {
    if (!waitingForDrain && link.queuedBytes < HIGH_WATER && from.isPaused()) from.resume();
  };
  const link = new Link(() => faults.current, () => faults.random(), {
    data(chunk) {
      if (to.destroyed || to.write(chunk) || waitingForDrain) return;
      waitingForDrain = true;
      from.pause();
      to.once('drain', () => {
        waitingForDrain = false;
        resume();
      });
    },
    end() {
      if (!to.destroyed) to.end();
    },
    idle: resume,
  });
  from.on('data', (chunk: Buffer) => {
    link.send(chunk);
    if (link.queuedBytes >= HIGH_WATER) from.pause();
  });
  from.on('end', () => link.end());
  // A side that has closed takes nothing more: what was on its way to it is dropped, timers and all.
  to.once('close', () => link.close());
  return link;
}
