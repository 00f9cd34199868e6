import type { CallGate } from '../core/gate.js';
import type { Logger } from '../core/logger.js';

/** Liveness and readiness as `/health` reports them. */
export interface AdminHealth {
  readonly live: boolean;
  readonly ready: boolean;
  /** Why a process is not ready: `starting`, `offline`, `draining`. */
  readonly reason?: string;
}

/**
 * Where the admin listener reads what it serves. Each source is asked per request, so the answer is
 * always current; an optional source left out makes its endpoint answer 404. A source may answer
 * with a promise.
 *
 * ```ts
 * await startAdmin('http://127.0.0.1:0', {
 *   health: () => ({ live: true, ready: true }),
 *   connections: () => transport.connections(),
 *   metrics: () => registry.prometheusText(),
 * });
 * ```
 */
export interface AdminSources {
  /** `GET /metrics`: Prometheus text format 0.0.4. */
  metrics?(): string | Promise<string>;
  /** `GET /health`, `/health/live`, `/health/ready`. */
  health(): AdminHealth | Promise<AdminHealth>;
  /** `GET /status`: services, methods, addresses, uptime, calls in flight. */
  status?(): unknown;
  /** `GET /connections`: peers, protocol, state, bytes, calls. */
  connections(): unknown;
  /** `GET /providers` (a client): what it sees through its registry. */
  providers?(): unknown;
  /** `POST /offline`: leave the registry without stopping. */
  offline?(): Promise<void>;
  /** `POST /online`: join the registry again. */
  online?(): Promise<void>;
  /**
   * Admits each request as a call of `switchyard.Admin`, method = the endpoint's name (`metrics`,
   * `health`, `status`, `connections`, `providers`, `offline`, `online`), with the request's
   * `authorization` header as its metadata: the server's own authentication and policy.
   */
  gate?: CallGate;
}

/** How `startAdmin` binds and behaves. */
export interface AdminStartOptions {
  /**
   * Allow a host that is not loopback (`0.0.0.0`, a LAN address). Off by default: the admin
   * endpoints tell much about a process and can take it offline, so they stay on the machine
   * unless asked otherwise, and should then have a `gate`.
   */
  public?: boolean;
  /** Longest a request may wait for a source before it is answered 504; default 30 s. */
  requestTimeoutMs?: number;
  /** Where a failing source is reported; quiet by default. */
  logger?: Logger;
}

/** The `admin` option of a server or a client in its object form: `{ url: 'http://0.0.0.0:9464', public: true }`. */
export interface AdminOptions extends Omit<AdminStartOptions, 'logger'> {
  url: string;
}

/** A running admin listener. */
export interface AdminListener {
  /** The bound URL, port resolved: `http://127.0.0.1:9464`. */
  readonly address: string;
  /** Stops listening, lets requests in progress finish, and closes idle keep-alive connections. Safe to call twice. */
  close(): Promise<void>;
}
