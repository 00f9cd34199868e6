// The etcd3 package as the etcd registry uses it (an optional peer dependency, loaded on first use),
// and how its failures become RpcErrors.
import type { IOptions } from 'etcd3';
import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';

export type EtcdModule = typeof import('etcd3');
export type EtcdClient = import('etcd3').Etcd3;
export type EtcdWatcher = import('etcd3').Watcher;
export type EtcdLease = import('etcd3').Lease;
export const etcdModuleName = 'etcd3';

/** An etcd user (etcd's own authentication), as in `etcd://user:password@host:2379`. */
export interface EtcdCredentials {
  readonly username: string;
  readonly password: string;
}

type FaultHandling = NonNullable<IOptions['faultHandling']>;
type Backoff = NonNullable<FaultHandling['watchBackoff']>;
type MemberPolicy = ReturnType<NonNullable<FaultHandling['host']>>;

/** What a member passed over fails with: the client tries the next member, the registry tries again later. */
export class MemberPassedOver extends Error {
  constructor() {
    super('the etcd member failed less than 1 s ago; trying another');
    this.name = 'MemberPassedOver';
  }
}

/**
 * How the client treats one member: after a failure of the connection kind (etcd3's "recoverable"
 * errors, unavailable, reset or timed out, that the member did not answer itself), it is passed over for 1 s, so that requests go to the
 * other members meanwhile. etcd3's default breaker passes a member over for 5 s after three such
 * failures, which also holds a lone member that came back out of use for up to 5 s. Only `execute`
 * of the policy is used by etcd3.
 */
export function memberPolicy(isRecoverable: (error: Error) => boolean): MemberPolicy {
  let passOverUntil = 0;
  const policy = {
    async execute<T>(operation: (context: { signal: AbortSignal }) => PromiseLike<T> | T, signal = new AbortController().signal): Promise<T> {
      if (Date.now() < passOverUntil) throw new MemberPassedOver();
      try {
        return await operation({ signal });
      } catch (error) {
        // An `etcdserver:` error (no leader, leader changed) came from a member that answers.
        if (error instanceof Error && isRecoverable(error) && !error.message.includes('etcdserver:')) passOverUntil = Date.now() + 1_000;
        throw error;
      }
    },
  };
  return policy as unknown as MemberPolicy;
}

/**
 * How long the client waits before opening a broken watch stream again: 100 ms, doubling up to
 * 2 s, back to 100 ms once a stream works. etcd3's default climbs to 30 s, which would leave
 * subscribers that long on an old list after a member of a cluster died.
 */
export function watchBackoff(): Backoff {
  const step = (ms: number): Backoff => ({ duration: ms, next: () => step(Math.min(ms * 2, 2_000)) });
  return { duration: 0, next: () => step(100) };
}

/** The constructor's name of an etcd3 error (`GRPCUnavailableError`, `EtcdPermissionDeniedError`…). */
function kind(error: unknown): string {
  const name = (error as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof name === 'string' ? name : '';
}

/** Failures that no retry mends: refused credentials or permissions, a request etcd finds malformed or too large. */
const finalKinds = new Set([
  'EtcdPermissionDeniedError', 'EtcdAuthenticationFailedError', 'GRPCUnauthenticatedError', 'GRPCInvalidArgumentError',
  'GRPCResourceExhastedError', 'GRPCFailedPreconditionError', 'GRPCNotImplementedError', 'ClientClosedError', 'RpcError',
]);

/** Whether an operation that failed so may succeed when tried again (etcd down, a leader election, a member gone). */
export function isTransient(error: unknown): boolean {
  return !finalKinds.has(kind(error));
}

/** Whether etcd said that the lease a request named is gone (expired or revoked). */
export function isLeaseGone(error: unknown): boolean {
  return kind(error) === 'EtcdLeaseInvalidError';
}

/** An etcd failure as the registry reports it: refusals by their own codes, the rest as UNAVAILABLE. */
export function etcdError(error: unknown, doing: string): RpcError {
  if (error instanceof RpcError) return error;
  const message = error instanceof Error ? error.message : String(error);
  switch (kind(error)) {
    case 'EtcdPermissionDeniedError':
      return new RpcError(Code.PERMISSION_DENIED, `etcd refused to ${doing}: ${message}; give the registry a user whose role allows it (etcd://user:password@host:2379)`, { cause: error });
    case 'EtcdAuthenticationFailedError':
    case 'GRPCUnauthenticatedError':
      return new RpcError(Code.UNAUTHENTICATED, `etcd refused the registry's credentials to ${doing}: ${message}`, { cause: error });
    case 'GRPCInvalidArgumentError':
    case 'GRPCResourceExhastedError':
      return new RpcError(Code.INVALID_ARGUMENT, `etcd refused the request to ${doing}: ${message}`, { cause: error });
    default:
      return new RpcError(Code.UNAVAILABLE, `cannot ${doing} in etcd: ${message}`, { cause: error });
  }
}
