import type { IncomingMessage } from 'node:http';
import { passGate, type CallGate } from '../core/gate.js';
import { Metadata } from '../core/metadata.js';
import type { RpcError } from '../core/rpc-error.js';
import { defineService } from '../core/service.js';

/** The names the admin endpoints go by in an access policy (the gate's `method`). */
export type AdminEndpoint = 'metrics' | 'health' | 'status' | 'connections' | 'providers' | 'offline' | 'online';

/** The admin endpoints seen as methods; only their names matter, for the gate and its policy. */
interface AdminApi {
  metrics(): Promise<string>;
  health(): Promise<unknown>;
  status(): Promise<unknown>;
  connections(): Promise<unknown>;
  providers(): Promise<unknown>;
  offline(): Promise<unknown>;
  online(): Promise<unknown>;
}

/**
 * The admin endpoints as a service, so that a server's auth policy covers them like any of its
 * services, by name and method:
 *
 * ```ts
 * policy: { 'switchyard.Admin': { roles: ['ops'], methods: { health: { public: true } } } }
 * ```
 */
export const AdminService = defineService<AdminApi>('switchyard.Admin', {
  methods: { metrics: {}, health: {}, status: {}, connections: {}, providers: {}, offline: {}, online: {} },
});

/** Resolves when `gate` admits the request to `endpoint`; rejects with its UNAUTHENTICATED or PERMISSION_DENIED. */
export function admitAdminRequest(gate: CallGate, endpoint: AdminEndpoint, request: IncomingMessage): Promise<void> {
  const authorization = request.headers.authorization;
  const metadata = authorization === undefined ? undefined : new Metadata({ authorization });
  return new Promise((resolve, reject: (error: RpcError) => void) => {
    passGate(gate, { service: AdminService, method: endpoint, metadata, peer: undefined, protocol: 'http' }, () => resolve(), reject);
  });
}
