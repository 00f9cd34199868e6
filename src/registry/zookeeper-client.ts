// The part of node-zookeeper-client the ZooKeeper registry uses (the package ships no types), and
// small helpers around it.
import { networkInterfaces } from 'node:os';
import type { ServiceKey } from '../core/service.js';

export type Callback<T> = (error: ZkError | null | undefined, value: T) => void;
export interface ZkError extends Error { getCode(): number }
export interface ZkClient {
  /**
   * Internal: the package has no public way to give up a connection or an attempt (`watchHandshake`,
   * `watchSilence`) nor to choose the server of the next attempt (`ServerChoice`). Optional, and
   * checked before use, so that a version without it only loses those.
   */
  readonly connectionManager?: ZkConnectionManager;
  connect(): void;
  close(): void;
  on(event: 'connected' | 'disconnected' | 'expired', listener: () => void): void;
  once(event: 'disconnected', listener: () => void): void;
  getSessionId(): Buffer;
  /** The session timeout the server granted (it clamps the one asked for); the one asked for before it answered. */
  getSessionTimeout(): number;
  getChildren(path: string, watcher: () => void, callback: Callback<string[]>): void;
  getChildren(path: string, callback: Callback<string[]>): void;
  create(path: string, data: Buffer, acls: readonly ZkAcl[], mode: number, callback: Callback<string>): void;
  remove(path: string, version: number, callback: Callback<void>): void;
  exists(path: string, callback: Callback<{ ephemeralOwner: Buffer } | null>): void;
  exists(path: string, watcher: () => void, callback: Callback<{ ephemeralOwner: Buffer } | null>): void;
  /** The node's data (null for a node created without any). */
  getData(path: string, callback: Callback<Buffer | null>): void;
  /** Replaces the node's data; version -1 matches any. */
  setData(path: string, data: Buffer, version: number, callback: Callback<unknown>): void;
  /** Keeps the credential and sends it on this and every later connection of the client. */
  addAuthInfo(scheme: string, auth: Buffer): void;
  getACL(path: string, callback: Callback<ZkAcl[]>): void;
  setACL(path: string, acls: readonly ZkAcl[], version: number, callback: Callback<unknown>): void;
}
/** One entry of a node's access control list: permission bits for one identity (`world:anyone`, `digest:user:hash`). */
export interface ZkAcl { readonly permission: number; readonly id: { readonly scheme: string; readonly id: string } }
export interface ZkSocket {
  readonly connecting: boolean;
  readonly destroyed: boolean;
  readonly remoteAddress?: string;
  readonly remotePort?: number;
  destroy(): void;
  on(event: 'data' | 'close', listener: () => void): unknown;
  once(event: 'connect', listener: () => void): unknown;
  /** `hadError`: the socket closed on an error (refused, reset), not by `destroy()`. */
  once(event: 'close', listener: (hadError: boolean) => void): unknown;
  off(event: 'data' | 'close', listener: () => void): unknown;
}
/** One server of the connect string, as node-zookeeper-client keeps it (the port is a string when given). */
export interface ZkServer { readonly host: string; readonly port: number | string }
export interface ZkConnectionManager {
  /** The socket of the current connection or attempt. */
  readonly socket?: ZkSocket;
  /** The connect string's servers, in the client's (shuffled) order. */
  readonly servers?: readonly ZkServer[];
  /** Called before each attempt; calls back, later, with the server to connect to. */
  findNextServer?: (callback: (server: ZkServer) => void) => void;
}
export interface ZkModule {
  createClient(connectString: string, options: { sessionTimeout: number; spinDelay: number; retries: number }): ZkClient;
  ACL: { new (permission: number, id: ZkAcl['id']): ZkAcl; readonly OPEN_ACL_UNSAFE: readonly ZkAcl[] };
  Id: new (scheme: string, id: string) => ZkAcl['id'];
  Permission: { readonly READ: number; readonly ALL: number };
}
export const NO_NODE = -101, NO_AUTH = -102, NODE_EXISTS = -110, CONNECTION_LOSS = -4, SESSION_EXPIRED = -112, EPHEMERAL = 1, PERSISTENT = 0;
export const zkModuleName = 'node-zookeeper-client';

export function call<T>(start: (callback: Callback<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => start((error, value) => (error ? reject(error) : resolve(value))));
}
export const codeOf = (error: unknown) => (error as Partial<ZkError>)?.getCode?.();
export const lostConnection = (error: unknown) => codeOf(error) === CONNECTION_LOSS || codeOf(error) === SESSION_EXPIRED;

/** The client's socket if it is connected at the TCP level (connected to ZooKeeper or not). */
export function openSocket(client: ZkClient): ZkSocket | undefined {
  const socket = client.connectionManager?.socket;
  return socket && !socket.connecting && !socket.destroyed ? socket : undefined;
}

export function decodeChild(child: string): string {
  try {
    return decodeURIComponent(child);
  } catch {
    return child;
  }
}

/** How a consumer of `service` in this process is announced, as Dubbo consumers are. */
export function consumerUrl(service: ServiceKey): string {
  const query = new URLSearchParams({ category: 'consumers', side: 'consumer', interface: service.name });
  if (service.version) query.set('version', service.version);
  if (service.group) query.set('group', service.group);
  query.set('pid', String(process.pid));
  query.set('timestamp', String(Date.now()));
  return `consumer://${localHost()}/${service.name}?${query.toString()}`;
}

function localHost(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) if (address.family === 'IPv4' && !address.internal) return address.address;
  }
  return '127.0.0.1';
}

export async function withTimeout(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
