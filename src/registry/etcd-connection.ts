import { setTimeout as sleep } from 'node:timers/promises';
import { Code } from '../core/code.js';
import type { Logger } from '../core/logger.js';
import { RpcError } from '../core/rpc-error.js';
import { etcdError, isTransient, memberPolicy, watchBackoff, type EtcdClient, type EtcdCredentials, type EtcdLease, type EtcdModule } from './etcd-client.js';

export interface EtcdConnectionOptions {
  /** `host:port` of each member. */
  readonly hosts: readonly string[];
  readonly credentials?: EtcdCredentials;
  /** Time to live of the lease the registry's keys hang on, in seconds. */
  readonly leaseTtlS: number;
  /** How long an operation tries (over every member, again and again) before it fails with UNAVAILABLE. */
  readonly dialTimeoutMs: number;
}

/**
 * The etcd client of one registry and the one lease its own keys hang on, kept alive while this
 * process lives: when the process dies, etcd deletes the keys once the lease's time runs out.
 * A lost lease (etcd out of reach for longer than it lasts, or etcd's data gone) is replaced by a
 * new one on the next use, and the registry is told, to write its keys again. What the lease
 * should hold is the registry's business.
 */
export class EtcdConnection {
  #client?: EtcdClient;
  #lease?: EtcdLease;
  #leaseId?: string;
  #granting?: Promise<string>;
  #unreachable = false;
  #closed = false;

  constructor(
    private readonly options: EtcdConnectionOptions,
    private readonly logger: Logger,
    /** Told when the lease is lost: the keys written with it are gone or going. */
    private readonly onLeaseLost: () => void,
  ) {}

  /** Creates the client; it connects on its first request. */
  open(etcd: EtcdModule): void {
    if (this.#closed || this.#client) return;
    const { hosts, credentials, dialTimeoutMs } = this.options;
    this.#client = new etcd.Etcd3({
      hosts: [...hosts],
      auth: credentials && { username: credentials.username, password: credentials.password },
      // One try of a request lasts at most 1 s: a write that reached a follower just before the
      // leader died is lost with it, and would wait for etcd's own request timeout (7 s by
      // default), while a new leader is elected within one to two election timeouts and answers
      // the next try at once. Every request the registry makes may be repeated. Streams (watches,
      // keep-alives) live on, and are watched by the client itself.
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + Math.min(dialTimeoutMs, 1_000) }),
      faultHandling: { watchBackoff: watchBackoff(), host: () => memberPolicy(etcd.isRecoverableError) },
    });
  }

  /** The client; FAILED_PRECONDITION before `open` and once closed. */
  get client(): EtcdClient {
    if (this.#closed) throw new RpcError(Code.FAILED_PRECONDITION, 'the etcd registry is closed');
    if (!this.#client) throw new RpcError(Code.FAILED_PRECONDITION, 'the etcd registry is not connected: make it with createEtcdRegistry, or await registry.connect()');
    return this.#client;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Runs an operation, again after each transient failure (etcd down, a leader election, a member
   * gone), until it succeeds or `dialTimeoutMs` has passed; fails with an RpcError saying what it was `doing`.
   */
  async run<T>(doing: string, operation: (client: EtcdClient) => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.options.dialTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await operation(this.client);
        this.#reached();
        return result;
      } catch (error) {
        const remaining = deadline - Date.now();
        if (this.#closed || !isTransient(error) || remaining <= 0) throw etcdError(error, doing);
        this.#unreachableNow(error);
        await sleep(Math.min(remaining, 50 * 2 ** Math.min(attempt, 3)));
      }
    }
  }

  /** The id of the live lease, granting one first if there is none. */
  lease(): Promise<string> {
    if (this.#leaseId !== undefined) return Promise.resolve(this.#leaseId);
    this.#granting ??= this.#grant().finally(() => (this.#granting = undefined));
    return this.#granting;
  }

  /** The id of the live lease, if any. */
  get leaseId(): string | undefined {
    return this.#leaseId;
  }

  async #grant(): Promise<string> {
    const lease = this.client.lease(this.options.leaseTtlS);
    // 'lost' also reports a failed grant, which `grant()` rejects with: that one is no lost lease.
    lease.on('lost', (error: Error) => this.#lost(lease, error));
    // Typed as a response by etcd3, though it is the error.
    lease.on('keepaliveFailed', (failure) => this.#unreachableNow(failure));
    lease.on('keepaliveSucceeded', () => this.#reached());
    const id = await lease.grant();
    if (this.#closed) {
      await lease.revoke().catch(() => undefined);
      throw new RpcError(Code.FAILED_PRECONDITION, 'the etcd registry is closed');
    }
    this.#lease = lease;
    this.#leaseId = id;
    this.logger.debug({ hosts: this.options.hosts, lease: id, ttlS: this.options.leaseTtlS }, 'etcd lease granted');
    return id;
  }

  #lost(lease: EtcdLease, error: Error): void {
    if (lease !== this.#lease || this.#closed) return;
    this.#lease = undefined;
    this.#leaseId = undefined;
    this.logger.warn({ err: error, hosts: this.options.hosts }, 'etcd lease lost; registering again with a new lease');
    this.onLeaseLost();
  }

  /** Logs the first failure of a run of them: etcd is out of reach, and subscribers keep what they know. */
  #unreachableNow(error: unknown): void {
    if (this.#unreachable || this.#closed) return;
    this.#unreachable = true;
    this.logger.warn({ err: error, hosts: this.options.hosts }, 'cannot reach etcd; keeping known providers and trying again');
  }

  #reached(): void {
    if (!this.#unreachable || this.#closed) return;
    this.#unreachable = false;
    this.logger.info({ hosts: this.options.hosts }, 'etcd answers again');
  }

  /**
   * Revokes the lease (etcd deletes every key written with it at once), deletes `keys` besides,
   * and closes the client; later operations fail with FAILED_PRECONDITION. Waits at most 2 s for etcd.
   */
  async close(keys: readonly string[]): Promise<void> {
    if (this.#closed) return;
    const client = this.#client;
    const lease = this.#lease;
    const granting = this.#granting;
    this.#closed = true;
    if (client) {
      const cleanup = Promise.all([
        lease?.revoke(),
        // A grant under way when closing: its lease is revoked by #grant once granted.
        granting?.catch(() => undefined),
        ...keys.map((key) => client.delete().key(key).exec()),
      ]).catch((error: unknown) => this.logger.debug({ err: error }, 'etcd registry: cleanup on close failed; the lease expires by itself'));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([cleanup, new Promise((resolve) => (timer = setTimeout(resolve, 2_000)))]);
      clearTimeout(timer);
      lease?.release();
      client.close();
    }
  }
}
