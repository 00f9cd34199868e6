import { hostname } from 'node:os';
import { Code } from '../../core/code.js';
import { RpcError } from '../../core/rpc-error.js';
import type { ClientTlsOptions } from '../tls/options.js';

/** An `amqp://` or `amqps://` address with Switchyard's options read out of its query. */
export interface AmqpAddress {
  /** What amqplib dials: the URL with credentials and vhost, without Switchyard's own options. */
  readonly brokerUrl: string;
  /**
   * For `amqps://`: what the broker connection trusts and presents (CAs, a client certificate for
   * brokers that ask for one); read again on every connect. Undefined for `amqp://`.
   */
  readonly tls: ClientTlsOptions | undefined;
  /** The URL without credentials, for logs and `server.addresses`. */
  readonly display: string;
  /** The application's topic exchange; every other name is derived from it. Default `switchyard`. */
  readonly exchange: string;
  /** This server's name for targeted calls (`topic.server`). Default `<hostname>-<pid>`. */
  readonly server: string;
  /** Unacknowledged requests each of a server's queue consumers holds at once. Default 64. */
  readonly prefetch: number;
  /** Ready requests a service queue holds before the broker refuses more. Default: unlimited. */
  readonly maxQueueLength: number | undefined;
  /** A service queue nobody consumes is deleted after this long (`x-expires`). Default 30 min. */
  readonly queueExpiresMs: number;
  /**
   * The fanout exchange service queues dead-letter to (`x-dead-letter-exchange`): requests that were
   * interrupted and may not run again, and requests that expired in the queue. Default
   * `<exchange>.dead-letter`; undefined (`deadLetterExchange=` in the URL) declares queues without one.
   */
  readonly deadLetterExchange: string | undefined;
}

export const DEFAULT_EXCHANGE = 'switchyard';
export const DEFAULT_PREFETCH = 64;
export const DEFAULT_QUEUE_EXPIRES_MS = 30 * 60 * 1000;

// Options amqplib itself reads from the query; they are passed on untouched.
const brokerKeys = new Set(['heartbeat', 'frameMax', 'channelMax', 'locale', 'maxFrameSize']);
const ownKeys = new Set(['exchange', 'server', 'prefetch', 'maxQueueLength', 'queueExpiresMs', 'deadLetterExchange']);
// No wildcard characters: names end up in routing and binding keys.
const validName = /^[A-Za-z0-9_.:@-]{1,100}$/;

/**
 * Reads `amqp://user:pass@host:port/vhost?exchange=myapp&server=host-1&prefetch=16&maxQueueLength=1000`,
 * or the same with `amqps://` (AMQP over TLS, port 5671 by default). `heartbeatSeconds` applies
 * when the URL sets no `heartbeat` of its own. `tls` is the process's `tls` option, taken for an
 * `amqps://` address as a client's of the broker whichever side it is: clients and servers are
 * both clients of the broker (see `brokerTls`).
 */
export function parseAmqpAddress(url: string, heartbeatSeconds: number, tls?: ClientTlsOptions): AmqpAddress {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RpcError(Code.INVALID_ARGUMENT, `invalid address ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'amqp:' && parsed.protocol !== 'amqps:') throw new RpcError(Code.INVALID_ARGUMENT, `not an amqp:// address (nor amqps://): ${JSON.stringify(url)}`);
  const own = new Map<string, string>();
  const broker = new URLSearchParams();
  for (const [key, value] of parsed.searchParams) {
    if (ownKeys.has(key)) own.set(key, value);
    else if (brokerKeys.has(key)) broker.set(key, value);
    else throw new RpcError(Code.INVALID_ARGUMENT, `unknown option ${JSON.stringify(key)} in ${redact(parsed)} (known: ${[...ownKeys, ...brokerKeys].join(', ')})`);
  }
  if (!broker.has('heartbeat')) broker.set('heartbeat', String(heartbeatSeconds));

  const exchange = own.get('exchange') ?? DEFAULT_EXCHANGE;
  if (!validName.test(exchange) || exchange.startsWith('amq.')) {
    throw new RpcError(Code.INVALID_ARGUMENT, `invalid exchange name ${JSON.stringify(exchange)}: letters, digits and _.:@- only, not starting with amq.`);
  }
  const server = own.get('server') ?? `${hostname()}-${process.pid}`;
  if (!validName.test(server)) {
    throw new RpcError(Code.INVALID_ARGUMENT, `invalid server name ${JSON.stringify(server)}: letters, digits and _.:@- only`);
  }
  const prefetch = integer(own, 'prefetch', 1, 65535) ?? DEFAULT_PREFETCH;
  const maxQueueLength = integer(own, 'maxQueueLength', 1, 2 ** 31 - 1);
  const queueExpiresMs = integer(own, 'queueExpiresMs', 1000, 2 ** 31 - 1) ?? DEFAULT_QUEUE_EXPIRES_MS;
  const deadLetter = own.get('deadLetterExchange') ?? `${exchange}.dead-letter`;
  if (own.has('deadLetterExchange') && deadLetter !== '' && (!validName.test(deadLetter) || deadLetter.startsWith('amq.'))) {
    throw new RpcError(Code.INVALID_ARGUMENT, `invalid dead-letter exchange name ${JSON.stringify(deadLetter)}: letters, digits and _.:@- only, not starting with amq.`);
  }

  const dial = new URL(parsed.href);
  dial.search = broker.toString();
  const shown = new URL(parsed.href);
  shown.username = '';
  shown.password = '';
  shown.search = '';
  const query = new URLSearchParams({ exchange, server });
  return {
    brokerUrl: dial.href,
    tls: parsed.protocol === 'amqps:' ? brokerTls(tls) : undefined,
    display: `${shown.href}?${query.toString()}`,
    exchange,
    server,
    prefetch,
    maxQueueLength,
    queueExpiresMs,
    deadLetterExchange: deadLetter === '' ? undefined : deadLetter,
  };
}

/**
 * The TLS settings of a connection to the broker, picked from the `tls` option of a client or a
 * server: the CAs to trust (default: Node's built-in list), and the key and certificate shown to a
 * broker that asks for one (`ssl_options.verify = verify_peer`). A server's `tls` serves its own
 * listeners too; for the broker only these fields count (`requireClientCert` and the like do not).
 */
export function brokerTls(options: ClientTlsOptions | undefined): ClientTlsOptions {
  if (options === undefined) return {};
  const { ca, key, cert, passphrase, servername, rejectUnauthorized, minVersion } = options;
  return { ca, key, cert, passphrase, servername, rejectUnauthorized, minVersion };
}

function integer(options: Map<string, string>, key: string, min: number, max: number): number | undefined {
  const text = options.get(key);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new RpcError(Code.INVALID_ARGUMENT, `${key} must be an integer from ${min} to ${max}, not ${JSON.stringify(text)}`);
  }
  return value;
}

function redact(url: URL): string {
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  return copy.href;
}
