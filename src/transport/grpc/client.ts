import { connect as connectHttp2, type ClientHttp2Session, type OutgoingHttpHeaders } from 'node:http2';
import type { Socket } from 'node:net';
import { beforeSending, refusal } from '../../core/call-watch.js';
import { Code } from '../../core/code.js';
import type { Invocation } from '../../core/invocation.js';
import { requestStreamOf } from '../../core/request-stream.js';
import { errorMessage, RpcError } from '../../core/rpc-error.js';
import { returnsStream, takesStream } from '../../core/service.js';
import { startTimer, stopTimer } from '../../core/timer.js';
import { methodSerializer } from '../../serialization/serializer.js';
import { parseAddress } from '../address.js';
import { Backoff } from '../backoff.js';
import type { TcpChannelOptions } from '../tcp/client.js';
import { ByteTally } from '../connection-record.js';
import type { Channel, ChannelInfo, ChannelState } from '../transport.js';
import { ClientCallStream, type CallPlan, type RequestBody } from './client-call.js';
import { serializerCodec, type MethodCodec } from './codec.js';
import { ACCEPT_ENCODING, COMPRESS_FROM, compress } from './compression.js';
import { contentTypeFor } from './content-type.js';
import { closedBeforeSettings, connectFailure, dialSocket, dialTls } from './dial.js';
import { frameMessage } from './message.js';
import { writeMetadata } from './metadata.js';
import { IDLE_GOAWAY, channelSettings, type GrpcChannelSettings } from './options.js';
import { protoServiceOf } from './proto-registry.js';
import { formatTimeout } from './timeout.js';

const USER_AGENT = 'switchyard-grpc/0.1';

/**
 * The client side of one `grpc://` address: one HTTP/2 connection carrying every call to it as a
 * stream, opened on first use and again after it is lost (with backoff after failed attempts). A
 * GOAWAY sends new calls to a new connection while the old one finishes its calls. A `grpcs://`
 * address is the same over TLS (ALPN `h2`), trusting and presenting what `options.tls` says.
 */
export class GrpcChannel implements Channel {
  private readonly settings: GrpcChannelSettings;
  private readonly host: string;
  private readonly port: number;
  private readonly authority: string;
  /** `grpcs://`: HTTP/2 over TLS. */
  private readonly secure: boolean;
  private readonly backoff: Backoff;
  private readonly plans = new Map<string, { codec: MethodCodec; headers: OutgoingHttpHeaders; streaming: boolean; takesStream: boolean }>();
  private current: ClientHttp2Session | undefined;
  private connecting: Promise<ClientHttp2Session> | undefined;
  /** Open sessions, each with the socket under it (read for the byte counts). */
  private readonly sessions = new Map<ClientHttp2Session, Socket>();
  private retryAt = 0;
  private lastError: RpcError | undefined;
  private shutdown = false;
  private goAwayReceived = false;
  /** Calls sent, calls whose streams are open (kept by the calls), bytes of closed sessions. */
  private calls = 0;
  private readonly streams = { active: 0 };
  private readonly closedBytes = new ByteTally();

  constructor(
    readonly address: string,
    private readonly options: TcpChannelOptions,
  ) {
    let protocol: string;
    ({ protocol, host: this.host, port: this.port } = parseAddress(address));
    this.secure = protocol === 'grpcs';
    this.authority = `${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
    this.settings = channelSettings(address, options.maxFrameSize);
    this.backoff = new Backoff(options.backoff);
  }

  get state(): ChannelState {
    if (this.shutdown) return 'SHUTDOWN';
    if (this.current !== undefined) return 'READY';
    if (this.connecting !== undefined) return 'CONNECTING';
    return Date.now() < this.retryAt ? 'TRANSIENT_FAILURE' : 'IDLE';
  }

  get draining(): boolean {
    return this.goAwayReceived;
  }

  call(invocation: Invocation, serviceId: string): Promise<unknown> {
    this.calls++;
    let plan: CallPlan & { takesStream: boolean };
    let body: Uint8Array;
    try {
      plan = this.plan(invocation, serviceId);
      // A request stream goes item by item once the call's stream is open.
      if (plan.takesStream) return this.send(invocation, plan, requestStreamOf(invocation.args, invocation.method));
      body = this.encode(invocation, plan.codec);
    } catch (error) {
      const rpcError = RpcError.from(error, Code.INVALID_ARGUMENT);
      return Promise.reject(new RpcError(rpcError.code, rpcError.message, { name: rpcError.name, details: rpcError.details, unprocessed: true }));
    }
    if (this.settings.compression !== 'identity' && body.length >= COMPRESS_FROM) {
      return compress(this.settings.compression, body).then(
        (zipped) => this.send(invocation, plan, frameMessage(zipped, true)),
        (error: unknown) => Promise.reject(new RpcError(Code.INTERNAL, `cannot compress the request: ${errorMessage(error)}`, { unprocessed: true })),
      );
    }
    return this.send(invocation, plan, frameMessage(body, false));
  }

  async close(timeoutMs = 5000): Promise<void> {
    this.shutdown = true;
    this.current = undefined;
    await Promise.all([...this.sessions.keys()].map((session) => closeSession(session, timeoutMs)));
  }

  info(): ChannelInfo {
    let { bytesIn, bytesOut } = this.closedBytes;
    for (const socket of this.sessions.values()) {
      bytesIn += socket.bytesRead;
      bytesOut += socket.bytesWritten;
    }
    const protocol = this.secure ? 'grpcs' : 'grpc';
    return { address: this.address, protocol, state: this.state, draining: this.draining, bytesIn, bytesOut, calls: this.calls, active: this.streams.active };
  }

  private send(invocation: Invocation, plan: CallPlan, body: RequestBody): Promise<unknown> {
    const ready = this.current;
    if (ready !== undefined && !ready.closed && !ready.destroyed) return this.start(ready, invocation, plan, body);
    if (this.shutdown) return Promise.reject(new RpcError(Code.UNAVAILABLE, `channel to ${this.address} is closed`, { unprocessed: true }));
    if (this.state === 'TRANSIENT_FAILURE') {
      return Promise.reject(new RpcError(Code.UNAVAILABLE, `${this.address} unreachable, next attempt in ${this.retryAt - Date.now()} ms: ${this.lastError?.message}`, { unprocessed: true }));
    }
    return beforeSending(this.connect(), invocation).then((session) => this.start(session, invocation, plan, body));
  }

  private start(session: ClientHttp2Session, invocation: Invocation, plan: CallPlan, body: RequestBody, retry = true): Promise<unknown> {
    const refused = refusal(invocation);
    if (refused !== undefined) return Promise.reject(refused);
    let settle: [(value: unknown) => void, (error: RpcError) => void] | undefined;
    const result = new Promise<unknown>((resolve, reject) => (settle = [resolve, reject]));
    try {
      new ClientCallStream(invocation, plan, settle![0], settle![1]).start(session, body);
      return result;
    } catch (error) {
      // This connection opens no more streams: retire it, and try once on a new one.
      if (this.current === session) this.current = undefined;
      if (!session.closed) session.close();
      if (retry && !this.shutdown) return beforeSending(this.connect(), invocation).then((fresh) => this.start(fresh, invocation, plan, body, false));
      return Promise.reject(error);
    }
  }

  /** The codec, headers and shape of a call; headers without deadline and metadata are made once. */
  private plan(invocation: Invocation, serviceId: string): CallPlan & { takesStream: boolean } {
    const key = `${serviceId}\0${invocation.method}`;
    let known = this.plans.get(key);
    if (known === undefined) {
      const proto = protoServiceOf(invocation.service)?.methods.get(invocation.method);
      const codec = proto?.codec ?? serializerCodec(methodSerializer(this.options.serializer, invocation.service, invocation.method, 'client'));
      const { name, version, group } = parseServiceId(serviceId);
      const headers: OutgoingHttpHeaders = {
        ':method': 'POST',
        ':scheme': this.secure ? 'https' : 'http',
        ':authority': this.authority,
        ':path': `/${name}/${proto?.protoName ?? invocation.method}`,
        'content-type': contentTypeFor(codec.name),
        te: 'trailers',
        'user-agent': USER_AGENT,
        'grpc-accept-encoding': ACCEPT_ENCODING,
      };
      if (this.settings.compression !== 'identity') headers['grpc-encoding'] = this.settings.compression;
      if (version !== undefined) headers['switchyard-version'] = version;
      if (group !== undefined) headers['switchyard-group'] = group;
      const options = invocation.service.methods.get(invocation.method);
      known = { codec, headers: Object.freeze(headers), streaming: returnsStream(options), takesStream: takesStream(options) };
      this.plans.set(key, known);
    }
    let headers = known.headers;
    const metadata = invocation.metadata;
    // An infinite deadline (timeoutMs: Infinity) is no deadline: nothing to tell the server.
    const deadline = invocation.deadline;
    const timed = deadline !== undefined && Number.isFinite(deadline);
    if (timed || metadata.size > 0) {
      headers = { ...headers };
      if (timed) headers['grpc-timeout'] = formatTimeout(deadline - Date.now());
      writeMetadata(metadata, headers);
    }
    return {
      codec: known.codec,
      headers,
      streaming: known.streaming,
      takesStream: known.takesStream,
      maxMessageSize: this.settings.maxMessageSize,
      compression: this.settings.compression,
      address: this.address,
      streams: this.streams,
    };
  }

  private encode(invocation: Invocation, codec: MethodCodec): Uint8Array {
    let body: Uint8Array;
    try {
      body = codec.encodeRequest(invocation.args);
    } catch (error) {
      if (error instanceof RpcError) throw error;
      throw new RpcError(Code.INVALID_ARGUMENT, `cannot encode the arguments: ${errorMessage(error)}`);
    }
    if (body.length > this.settings.maxMessageSize) {
      throw new RpcError(Code.RESOURCE_EXHAUSTED, `request message of ${body.length} bytes exceeds the limit of ${this.settings.maxMessageSize}`);
    }
    return body;
  }

  private connect(): Promise<ClientHttp2Session> {
    if (this.connecting !== undefined) return this.connecting;
    let tls;
    try {
      tls = dialTls(this.secure, this.options.tls, this.host);
    } catch (error) {
      return Promise.reject(error);
    }
    const target = { address: this.address, host: this.host, port: this.port, tls };
    this.connecting = new Promise<ClientHttp2Session>((resolve, reject) => {
      let socket: Socket | undefined;
      const session = connectHttp2(`${this.secure ? 'https' : 'http'}://${this.authority}`, {
        settings: { enablePush: false, initialWindowSize: this.settings.initialWindowSize },
        maxSessionMemory: Math.max(10, Math.ceil((2 * this.settings.maxMessageSize) / 1048576)),
        createConnection: () => (socket = dialSocket(target)),
      });
      const timer = startTimer(this.options.connectTimeoutMs, () => session.destroy(new Error(`connect timed out after ${this.options.connectTimeoutMs} ms`)), undefined);
      const fail = (error: Error): void => {
        stopTimer(timer);
        session.off('close', closedEarly);
        this.connecting = undefined;
        this.retryAt = Date.now() + this.backoff.next();
        this.lastError = connectFailure(error, target);
        session.on('error', noop); // what else a dying connection reports is said by the failure above
        session.destroy();
        reject(this.lastError);
      };
      // A connection the server ends before its SETTINGS, without an error of its own.
      const closedEarly = (): void => fail(closedBeforeSettings());
      session.once('error', fail);
      session.once('close', closedEarly);
      // Ready once the server's SETTINGS are in: its stream and header limits then apply to our calls.
      session.once('remoteSettings', () => {
        stopTimer(timer);
        session.off('error', fail);
        session.off('close', closedEarly);
        this.connecting = undefined;
        if (this.shutdown) {
          session.destroy();
          reject(new RpcError(Code.UNAVAILABLE, `channel to ${this.address} is closed`, { unprocessed: true }));
          return;
        }
        this.adopt(session, socket!);
        resolve(session);
      });
    });
    return this.connecting;
  }

  /** A connected session becomes the current one, with keepalive and GOAWAY handling. */
  private adopt(session: ClientHttp2Session, socket: Socket): void {
    this.goAwayReceived = false;
    this.backoff.reset();
    this.current = session;
    this.sessions.set(session, socket);
    if (this.settings.initialWindowSize > 65_535) session.setLocalWindowSize(4 * this.settings.initialWindowSize);
    session.on('error', (error) => this.options.logger.debug({ address: this.address, message: error.message }, 'grpc connection error'));
    let idle = false;
    session.on('goaway', (_code: number, _last: number, data?: Buffer) => {
      // The server is leaving: new calls go to a new connection. An idle connection closed by the
      // server is not a server leaving, and does not mark this address as draining.
      if (this.current === session) this.current = undefined;
      idle ||= data?.toString() === IDLE_GOAWAY;
      if (!idle) this.goAwayReceived = true;
    });
    const heartbeat = this.settings.keepaliveMs > 0 ? this.keepalive(session) : undefined;
    session.once('close', () => {
      if (heartbeat !== undefined) clearInterval(heartbeat);
      this.sessions.delete(session);
      this.closedBytes.retire(socket);
      if (this.current === session) this.current = undefined;
    });
  }

  /** PINGs every `keepaliveMs`; a PING unanswered for `idleTimeoutMs` ends the connection. */
  private keepalive(session: ClientHttp2Session): NodeJS.Timeout {
    let lastPong = Date.now();
    const timer = setInterval(() => {
      if (Date.now() - lastPong > Math.max(this.options.idleTimeoutMs, this.settings.keepaliveMs)) {
        session.destroy(new Error(`no answer to PING from ${this.address} for ${this.options.idleTimeoutMs} ms`));
        return;
      }
      try {
        session.ping((error) => {
          if (error === null) lastPong = Date.now();
        });
      } catch {
        // too many PINGs outstanding: the next tick decides whether the peer is gone
      }
    }, this.settings.keepaliveMs);
    timer.unref();
    return timer;
  }
}

/** Closes a session once its streams end, or cuts it off after `timeoutMs`. */
function closeSession(session: ClientHttp2Session, timeoutMs: number): Promise<void> {
  if (session.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = startTimer(timeoutMs, () => session.destroy(), undefined);
    session.once('close', () => {
      stopTimer(timer);
      resolve();
    });
    session.close();
  });
}

/** `group/name:version` back into its parts. */
function parseServiceId(id: string): { name: string; version: string | undefined; group: string | undefined } {
  const slash = id.indexOf('/');
  const colon = id.indexOf(':');
  return {
    group: slash === -1 ? undefined : id.slice(0, slash),
    name: id.slice(slash + 1, colon === -1 ? undefined : colon),
    version: colon === -1 ? undefined : id.slice(colon + 1),
  };
}

function noop(): void {}
