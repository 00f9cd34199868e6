import { createHash } from 'node:crypto';
import { Code } from '../core/code.js';
import type { Logger } from '../core/logger.js';
import { RpcError } from '../core/rpc-error.js';
import { NODE_EXISTS, NO_AUTH, NO_NODE, PERSISTENT, call, codeOf, lostConnection, type ZkAcl, type ZkClient, type ZkModule } from './zookeeper-client.js';

/** A ZooKeeper digest credential, as in `zookeeper://user:password@host:port`. */
export interface ZooKeeperCredentials {
  readonly username: string;
  readonly password: string;
}

/**
 * ZooKeeper's identity for a digest credential: `user:base64(sha1("user:password"))`, as its
 * DigestAuthenticationProvider makes it. ACL entries name a credential this way.
 */
export function digestId({ username, password }: ZooKeeperCredentials): string {
  return `${username}:${createHash('sha1').update(`${username}:${password}`).digest('base64')}`;
}

/** Refuses a username ZooKeeper would cut at its first `:`, or an empty part. */
export function checkCredentials(credentials: ZooKeeperCredentials): void {
  if (credentials.username === '' || credentials.username.includes(':') || credentials.password === '') {
    throw new RpcError(Code.INVALID_ARGUMENT, 'ZooKeeper credentials need a username without ":" and a non-empty password');
  }
}

/** Whether an error is ZooKeeper refusing this session a write (NO_AUTH), as `RegistryAccess` reports it. */
export function isRefusal(error: unknown): boolean {
  return error instanceof RpcError && error.code === Code.PERMISSION_DENIED;
}

/**
 * Who may change the nodes a registry writes. Without credentials, ZooKeeper's open ACL (anyone
 * may do anything), as Dubbo writes them. With credentials, every node the registry creates is
 * writable by that credential only and readable by anyone (`digest:user:hash` ALL, `world:anyone`
 * READ), so that a process without them can neither add a provider under a service nor remove one;
 * a path of the registry's tree (the root and below) that already exists and lets anyone write is
 * tightened to that ACL, once per connection, if ZooKeeper allows it, and reported either way.
 */
export class RegistryAccess {
  private acl: readonly ZkAcl[] = [];
  private digest = '';
  /** Paths of the registry's tree whose ACL was checked on the current connection. */
  private checked = new Set<string>();

  constructor(
    private readonly credentials: ZooKeeperCredentials | undefined,
    /** The registry's root: it owns this path and those below, not the ones above. */
    private readonly root: string,
    private readonly logger: Logger,
  ) {
    if (credentials) checkCredentials(credentials);
  }

  /** Builds the ACL with the loaded client module; before any other method. */
  load(zk: ZkModule): void {
    if (!this.credentials) {
      this.acl = zk.ACL.OPEN_ACL_UNSAFE;
      return;
    }
    this.digest = digestId(this.credentials);
    this.acl = [new zk.ACL(zk.Permission.ALL, new zk.Id('digest', this.digest)), new zk.ACL(zk.Permission.READ, new zk.Id('world', 'anyone'))];
  }

  /**
   * Authenticates `client` before it connects. The client keeps the credential and sends it first
   * on every connection it makes, so a reconnection is authenticated before anything else it sends;
   * a new client (after its session expired) is given it again.
   */
  authenticate(client: ZkClient): void {
    if (this.credentials) client.addAuthInfo('digest', Buffer.from(`${this.credentials.username}:${this.credentials.password}`));
  }

  /** A new connection checks the paths again: an operator may have opened one meanwhile. */
  reconnected(): void {
    this.checked.clear();
  }

  /** Creates a node with the registry's ACL; NO_AUTH becomes PERMISSION_DENIED naming the path. */
  async create(client: ZkClient, path: string, data: Buffer | undefined, mode: number): Promise<void> {
    try {
      await call((cb) => client.create(path, data ?? Buffer.alloc(0), this.acl, mode, cb));
    } catch (error) {
      throw codeOf(error) === NO_AUTH ? this.refused(path, error) : error;
    }
  }

  /**
   * Makes sure `path` and its parents exist, creating the missing ones with the registry's ACL and
   * tightening the registry's own that let anyone write. A path that exists is passed even if this
   * session may not create under its parent (a consumer without credentials reading a locked tree).
   */
  async ensurePath(client: ZkClient, path: string): Promise<void> {
    const paths = path.split('/').slice(1).map((_, index, parts) => `/${parts.slice(0, index + 1).join('/')}`);
    const exists = (node: string): Promise<unknown> => call((cb) => client.exists(node, cb));
    // Asked first, all at once: the server at hand answers reads, while even a create that fails
    // because the node exists goes through the leader and a quorum, slow right after an election.
    const found = await Promise.all(paths.map(exists));
    for (const [index, current] of paths.entries()) {
      if (!found[index]) {
        try {
          await this.create(client, current, undefined, PERSISTENT);
          continue;
        } catch (error) {
          if (codeOf(error) !== NODE_EXISTS) {
            if (!isRefusal(error)) throw error;
            // Created meanwhile by another session, under a parent this one may not write to.
            if (!(await exists(current))) throw error;
          }
        }
      }
      await this.tighten(client, current);
    }
  }

  /**
   * Reads the children of `path` and sets `watcher` for their next change, creating the path if it
   * is missing. A session that may not create it (a consumer without credentials, under a tree
   * that needs them) watches for its creation instead and reads no children meanwhile.
   */
  async watchChildren(client: ZkClient, path: string, watcher: () => void): Promise<string[]> {
    try {
      return await call((cb) => client.getChildren(path, watcher, cb));
    } catch (error) {
      if (codeOf(error) !== NO_NODE) throw error;
    }
    try {
      await this.ensurePath(client, path);
    } catch (error) {
      if (!isRefusal(error)) throw error;
      if (!(await call((cb) => client.exists(path, watcher, cb)))) return [];
    }
    return call((cb) => client.getChildren(path, watcher, cb));
  }

  /** Narrows the ACL of an existing path of the registry's tree that lets anyone write. */
  private async tighten(client: ZkClient, path: string): Promise<void> {
    if (!this.credentials || this.checked.has(path) || !(path === this.root || path.startsWith(`${this.root}/`))) return;
    this.checked.add(path);
    const acls = await this.attempt(path, () => call<ZkAcl[]>((cb) => client.getACL(path, cb)),
      'ZooKeeper registry: cannot read the ACL of this path with these credentials, so it is left as it is');
    if (!acls?.some(lettingAnyoneWrite)) return;
    // Other identities an operator granted keep their rights; only `world:anyone` is narrowed.
    const others = acls.filter((acl) => !isAnyone(acl) && !(acl.id.scheme === 'digest' && acl.id.id === this.digest));
    const done = await this.attempt(path, () => call((cb) => client.setACL(path, [...this.acl, ...others], -1, cb)).then(() => true),
      'ZooKeeper registry: anyone may write to this path and these credentials cannot change its ACL; processes without credentials can still add or remove entries there');
    if (!done) return;
    this.logger.info({ path, user: this.credentials.username }, 'ZooKeeper registry: tightened the ACL of a path anyone could write to; now only the registry credentials may write, anyone may read');
    if (path.endsWith('/providers')) await this.reportEarlierEntries(client, path);
  }

  /**
   * Runs one step of tightening; a refusal is logged with `warning` and answers undefined, a lost
   * connection lets the next connection check the path again.
   */
  private async attempt<T>(path: string, step: () => Promise<T>, warning: string): Promise<T | undefined> {
    try {
      return await step();
    } catch (error) {
      if (lostConnection(error)) {
        this.checked.delete(path);
        throw error;
      }
      this.logger.warn({ path, err: error }, warning);
      return undefined;
    }
  }

  /** Entries written while a providers path was open stay there: say so, since they may be forged. */
  private async reportEarlierEntries(client: ZkClient, path: string): Promise<void> {
    const children = await call<string[]>((cb) => client.getChildren(path, cb)).catch(() => []);
    if (children.length === 0) return;
    this.logger.warn({ path, entries: children.length },
      'ZooKeeper registry: this providers path was open to anyone until now; the entries already there were written without credentials and stay until removed: check them');
  }

  private refused(path: string, cause: unknown): RpcError {
    const how = this.credentials ? `the credentials of user ${JSON.stringify(this.credentials.username)} are not` : 'a session without credentials is not';
    return new RpcError(Code.PERMISSION_DENIED,
      `ZooKeeper refused to create ${path} (NO_AUTH): ${how} allowed to write under ${path.slice(0, path.lastIndexOf('/')) || '/'}; give the registry credentials its ACL names (zookeeper://user:password@host:port)`,
      { cause });
  }
}

/** ZooKeeper's read permission bit (`Permission.READ`). */
const READ = 1;

function isAnyone(acl: ZkAcl): boolean {
  return acl.id.scheme === 'world' && acl.id.id === 'anyone';
}

/** Any permission but READ (write, create, delete, admin) granted to anyone. */
function lettingAnyoneWrite(acl: ZkAcl): boolean {
  return isAnyone(acl) && (acl.permission & ~READ) !== 0;
}
