import { connect } from 'node:net';
import type { Logger } from '../core/logger.js';
import type { ZkClient, ZkServer } from './zookeeper-client.js';

const serverKey = (server: ZkServer) => `${server.host}:${server.port}`;

/**
 * Chooses the server of each connection attempt of a registry's ZooKeeper clients: round the
 * client's shuffled connect string, with a random pause of up to `spinDelayMs` after a quick round,
 * as node-zookeeper-client and ZooKeeper's own clients do, except that a server known not to answer
 * is tried last.
 *
 * A server that does not answer (partitioned away, its host gone) costs a whole connect timeout, the
 * session timeout's share per server, each time the round comes to it, while a server that is up
 * answers at once, if only by closing a connection it cannot serve yet. When the server a client
 * lost was the leader, the others refuse every client until they have elected a new one: the round
 * came back to the lost server within milliseconds, and the client waited on it while the election
 * ended. A client dropped by a follower that lost the leader waited likewise on the leader, never
 * heard from. So a server whose connection went silent, or whose attempt timed out or was never
 * answered, is tried last for one session timeout; and when a client loses its connection, every
 * other server is probed at once with a bare TCP connection, a server being tried last while its
 * probe is out, and for a session timeout if the probe times out.
 */
export class ServerChoice {
  /** `host:port` of a server that did not answer (or whose probe is out), to the time until which it is tried last. */
  private readonly distrusted = new Map<string, number>();
  /** The server of each client's current connection or attempt. */
  private readonly current = new WeakMap<ZkClient, string>();
  private readonly probing = new Set<string>();
  private closed = false;

  constructor(
    private readonly spinDelayMs: number,
    private readonly logger: Logger,
  ) {}

  /**
   * Takes over the choice of `client`'s servers; call it before `client.connect()`. A client whose
   * internals differ from what node-zookeeper-client 1.x has keeps its own choice.
   */
  steer(client: ZkClient): void {
    const manager = client.connectionManager;
    const servers = manager?.servers;
    if (!manager || !Array.isArray(servers) || servers.length === 0 || typeof manager.findNextServer !== 'function') return;
    const list: readonly ZkServer[] = [...servers];
    let next = 0;
    // The attempts since the round began, and when its first one began.
    let round = { attempts: 0, startedAt: 0 };
    client.on('connected', () => {
      round = { attempts: 0, startedAt: 0 };
      const key = this.current.get(client);
      if (key !== undefined) this.distrusted.delete(key);
    });
    client.on('disconnected', () => this.probeOthers(client, list));
    manager.findNextServer = (callback) => {
      // A round is the servers that answer; every server when none does.
      const trusted = list.filter((server) => !this.isDistrusted(serverKey(server))).length;
      const over = round.attempts >= (trusted > 0 ? trusted : list.length);
      // The pause spreads the attempts of quick rounds (servers refusing while they elect a leader);
      // a round that waited out an attempt on a server that did not answer has paused enough.
      const pauseMs = over ? Math.max(0, Math.random() * this.spinDelayMs - (Date.now() - round.startedAt)) : 0;
      const attempt = (): void => {
        if (over || round.attempts === 0) round = { attempts: 0, startedAt: Date.now() };
        round.attempts++;
        const index = this.pick(list, next);
        const server = list[index]!;
        next = (index + 1) % list.length;
        this.current.set(client, serverKey(server));
        callback(server);
        this.watchAttempt(client, serverKey(server));
      };
      if (pauseMs > 0) setTimeout(attempt, pauseMs);
      else process.nextTick(attempt);
    };
  }

  /** No more probes: the registry is closing, and its client says `disconnected` once more. */
  close(): void {
    this.closed = true;
  }

  /** The server of `client`'s connection or attempt did not answer in time: tried last for a session timeout. */
  distrust(client: ZkClient): void {
    const key = this.current.get(client);
    if (key !== undefined) this.distrustServer(key, client.getSessionTimeout());
  }

  private distrustServer(key: string, forMs: number): void {
    this.distrusted.set(key, Date.now() + forMs);
    this.logger.debug({ server: key }, 'ZooKeeper server did not answer; trying the others first');
  }

  /** From `from` on, the first server not distrusted; else the one whose distrust ends first. */
  private pick(list: readonly ZkServer[], from: number): number {
    let fallback = from;
    for (let step = 0; step < list.length; step++) {
      const index = (from + step) % list.length;
      const key = serverKey(list[index]!);
      if (!this.isDistrusted(key)) return index;
      if (this.distrusted.get(key)! < this.distrusted.get(serverKey(list[fallback]!))!) fallback = index;
    }
    return fallback;
  }

  private isDistrusted(key: string): boolean {
    const until = this.distrusted.get(key);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.distrusted.delete(key);
    return false;
  }

  /**
   * An attempt given up before it opened (the connect timeout) distrusts its server. One refused at
   * once (no process on the port, a reset) does not: trying that server again costs nothing.
   */
  private watchAttempt(client: ZkClient, key: string): void {
    const socket = client.connectionManager?.socket;
    if (!socket) return;
    let opened = false;
    socket.once('connect', () => {
      opened = true;
    });
    socket.once('close', (hadError) => {
      if (!opened && !hadError && this.current.get(client) === key) this.distrust(client);
    });
  }

  /** Probes every server but the one `client` just lost: a bare TCP connection, closed once open or refused. */
  private probeOthers(client: ZkClient, list: readonly ZkServer[]): void {
    if (this.closed) return;
    const lost = this.current.get(client);
    const sessionMs = client.getSessionTimeout();
    const timeoutMs = Math.max(1, Math.floor(sessionMs / list.length));
    for (const server of list) {
      const key = serverKey(server);
      if (key === lost || this.probing.has(key)) continue;
      this.probing.add(key);
      this.distrusted.set(key, Math.max(this.distrusted.get(key) ?? 0, Date.now() + timeoutMs));
      const socket = connect({ host: server.host, port: Number(server.port) });
      // Opened or refused at once, the server answers; only one that lets the probe time out is distrusted.
      const settle = (answered: boolean): void => {
        clearTimeout(timer);
        socket.destroy();
        if (!this.probing.delete(key)) return;
        if (answered) this.distrusted.delete(key);
        else this.distrustServer(key, sessionMs);
      };
      socket.once('connect', () => settle(true));
      socket.once('error', () => settle(true));
      const timer = setTimeout(() => settle(false), timeoutMs);
      // Probes must not keep a process alive that is done with the registry.
      timer.unref();
      socket.unref();
    }
  }
}
