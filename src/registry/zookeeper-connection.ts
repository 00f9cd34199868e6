import { Code } from '../core/code.js';
import type { Logger } from '../core/logger.js';
import { RpcError } from '../core/rpc-error.js';
import { call, lostConnection, openSocket, withTimeout, type ZkClient, type ZkModule, type ZkSocket } from './zookeeper-client.js';
import { ServerChoice } from './zookeeper-server-choice.js';
import { watchSilence } from './zookeeper-silence.js';

export const unavailable = (message: string, cause?: unknown) => new RpcError(Code.UNAVAILABLE, message, { cause });

/**
 * The longest pause after a quick round of connection attempts over the servers (see `ServerChoice`):
 * a twentieth of the session timeout, at most the 1 s of ZooKeeper's own client. Servers electing a
 * leader refuse at once; a client pausing longer would reconnect that much later after the election.
 */
const spinDelayMs = (sessionTimeoutMs: number) => Math.min(1_000, Math.max(1, Math.round(sessionTimeoutMs / 20)));

/**
 * The ZooKeeper session of one registry: connects, opens a new session when one expires, drops a
 * connection attempt the server never answers and a connection whose server has gone silent (so
 * that the client moves on to another server of the ensemble, trying that one last), and lets
 * operations wait for a connection. What the session should hold (nodes, watches) is the
 * registry's business, told on every (re)connection.
 */
export class ZooKeeperConnection {
  private client?: ZkClient;
  /** The client while it is connected. */
  private connectedClient?: ZkClient;
  private readonly waiters = new Set<() => void>();
  private handshakeTimer?: NodeJS.Timeout;
  private stopSilenceWatch?: () => void;
  private closed = false;
  private readonly servers: ServerChoice;

  constructor(
    private readonly connectString: string,
    private readonly sessionTimeoutMs: number,
    private readonly connectTimeoutMs: number,
    private readonly logger: Logger,
    /** Runs on every (re)connection, to bring the server in line with what the registry wants. */
    private readonly onConnected: (client: ZkClient) => void,
  ) {
    // Shared by the clients of every session, so that a new session does not start on a server the last one lost.
    this.servers = new ServerChoice(spinDelayMs(sessionTimeoutMs), logger);
  }

  /** The client while it is connected. */
  get live(): ZkClient | undefined {
    return this.connectedClient;
  }

  /** Connects with a new client; `authenticate` gives each client (this one, and one per expired session) its credentials first. */
  open(zk: ZkModule, authenticate?: (client: ZkClient) => void): void {
    const client = zk.createClient(this.connectString, { sessionTimeout: this.sessionTimeoutMs, spinDelay: spinDelayMs(this.sessionTimeoutMs), retries: 0 });
    this.client = client;
    this.servers.steer(client);
    authenticate?.(client);
    client.on('connected', () => {
      if (this.client !== client || this.closed) return;
      this.logger.info({ connectString: this.connectString, sessionId: client.getSessionId().toString('hex') }, 'connected to ZooKeeper');
      this.connectedClient = client;
      this.stopSilenceWatch?.();
      this.stopSilenceWatch = watchSilence(client, (silentMs, server) => {
        this.servers.distrust(client);
        this.logger.warn({ connectString: this.connectString, server, silentMs }, 'ZooKeeper server silent; connecting to another to keep the session');
      });
      for (const wake of this.waiters) wake();
      this.onConnected(client);
    });
    client.on('disconnected', () => {
      if (this.client !== client || this.closed) return;
      this.connectedClient = undefined;
      this.logger.warn({ connectString: this.connectString }, 'disconnected from ZooKeeper; keeping known providers');
      this.watchHandshake(client);
    });
    client.on('expired', () => {
      if (this.client !== client || this.closed) return;
      this.connectedClient = undefined;
      this.logger.warn({ connectString: this.connectString }, 'ZooKeeper session expired; registering again with a new session');
      this.open(zk, authenticate);
    });
    client.connect();
    this.watchHandshake(client);
  }

  /**
   * Drops a connection attempt that the server accepted but does not answer, so that the client tries
   * again. A ZooKeeper that is starting refuses a connection that comes before its data is loaded, and
   * the refusal can fail halfway (ZOOKEEPER-5051, seen on 3.8), leaving the socket open and never read;
   * node-zookeeper-client stops its connect timer once the socket is open and would wait for the
   * handshake forever. Checked every sixth of the session timeout, a socket found open and unanswered
   * twice in a row has waited at most a third of it, which leaves the next attempt time to resume the
   * session before the server expires it.
   */
  private watchHandshake(client: ZkClient): void {
    clearInterval(this.handshakeTimer);
    let suspect: ZkSocket | undefined;
    const timer = setInterval(() => {
      if (this.client !== client || this.connectedClient === client || this.closed) {
        clearInterval(timer);
        return;
      }
      const socket = openSocket(client);
      if (socket && socket === suspect) {
        this.logger.warn({ connectString: this.connectString }, 'ZooKeeper accepted a connection but does not answer; connecting again');
        this.servers.distrust(client);
        socket.destroy();
        suspect = undefined;
      } else {
        suspect = socket;
      }
    }, this.sessionTimeoutMs / 6);
    // The client's own socket keeps the process alive while it waits; the watch need not.
    timer.unref();
    this.handshakeTimer = timer;
  }

  /** Waits for a connected client until `deadline` (default: the connect timeout from now). */
  async connected(deadline = Date.now() + this.connectTimeoutMs): Promise<ZkClient> {
    while (!this.connectedClient) {
      if (this.closed) throw unavailable('the ZooKeeper registry is closed');
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw unavailable(`no connection to ZooKeeper at ${this.connectString} within ${this.connectTimeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, remaining);
        this.waiters.add(wake);
      });
    }
    return this.connectedClient;
  }

  /** Runs an operation on a connected client, again after a lost connection, until the connect timeout. */
  async run<T>(operation: (client: ZkClient) => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.connectTimeoutMs;
    for (;;) {
      const client = await this.connected(deadline);
      try {
        return await operation(client);
      } catch (error) {
        if (!lostConnection(error) || Date.now() >= deadline) throw error;
      }
    }
  }

  /** Deletes `paths` if connected, then ends the session; waiting operations fail with UNAVAILABLE. */
  async close(paths: readonly string[]): Promise<void> {
    this.closed = true;
    this.servers.close();
    clearInterval(this.handshakeTimer);
    this.stopSilenceWatch?.();
    for (const wake of this.waiters) wake();
    const client = this.client;
    const live = this.connectedClient;
    if (live) {
      const removals = paths.map((path) => call<void>((cb) => live.remove(path, -1, cb)).catch(() => {}));
      await withTimeout(Promise.all(removals), 2_000);
    }
    this.connectedClient = undefined;
    if (client) {
      // A connected client ends its session (the server deletes its nodes) and says 'disconnected';
      // one that is not connected stops retrying at its next attempt, or now if it is waiting on a
      // socket the server may never answer (see `watchHandshake`).
      const gone = live ? new Promise<void>((resolve) => client.once('disconnected', resolve)) : undefined;
      client.close();
      if (gone) await withTimeout(gone, 2_000);
      else openSocket(client)?.destroy();
    }
  }
}
