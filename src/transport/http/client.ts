import { CallList, type Listed } from '../../core/call-list.js';
import { CallWatch, refusal } from '../../core/call-watch.js';
import { Code } from '../../core/code.js';
import { requestMetadataOf } from '../../core/client-call.js';
import type { Invocation } from '../../core/invocation.js';
import { readField } from '../../core/plain-data.js';
import { pumpRequestStream, requestStreamOf, type RequestStream } from '../../core/request-stream.js';
import { errorMessage, RpcError } from '../../core/rpc-error.js';
import { startTimer, stopTimer } from '../../core/timer.js';
import { jsonSerializer } from '../../serialization/json.js';
import { Backoff, defaultBackoff, type BackoffOptions } from '../backoff.js';
import { isTlsFailure, tlsFailure } from '../tls/errors.js';
import type { Channel, ChannelInfo, ChannelState } from '../transport.js';
import { decodeError } from './errors.js';
import { Header, MAX_TIMEOUT_MS, isJson, metadataHeaders, splitServiceId } from './headers.js';
import { NdjsonBody } from './request-body.js';
import { readLines } from './response-body.js';
import { fetchSender, type Abortable, type HttpSender, type RequestControl, type SentResponse } from './sender.js';

export interface HttpChannelOptions {
  /** Largest response body (or stream line) read; larger ones fail with RESOURCE_EXHAUSTED. Default 16 MiB. */
  maxResponseBytes?: number;
  /** How long the channel reports TRANSIENT_FAILURE after the server could not be reached. */
  backoff?: BackoffOptions;
  /** What sends the requests (in Node, registry.ts gives an `UndiciSender`); default `fetch`. */
  sender?: HttpSender;
  /** Without a `sender`: the `fetch` to send with; default the global one. */
  fetch?: typeof fetch;
  /** Without a `sender`: lets go of what `fetch` holds once the channel has closed. */
  closeFetch?: () => Promise<void>;
}

const json = jsonSerializer();
// undici (also under Node's fetch) reports these when nothing was sent: safe to retry elsewhere.
const notSent = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * The client side of one `http://host:port` (or `https://`) provider address: every call is a
 * `POST /<service>/<method>` with the arguments as a JSON array. Runs in Node and in browsers: it
 * sends through an `HttpSender`, undici's in Node (undici-sender.ts, with the client's TLS
 * options), `fetch` in the browser.
 */
export class HttpChannel implements Channel {
  readonly address: string;
  private readonly base: string;
  private readonly maxResponseBytes: number;
  private readonly sender: HttpSender;
  private readonly backoff: Backoff;
  private readonly calls = new CallList<FetchCall>();
  /** Each service id, split once: its version and group headers and its methods' paths. */
  private readonly targets = new Map<string, Target>();
  private retryAt = 0;
  private used = false;
  private shutdown = false;
  private leaving = false;
  private idle: (() => void) | undefined;
  /** Calls sent through the channel. */
  private sent = 0;

  constructor(address: string, options: HttpChannelOptions = {}) {
    const url = new URL(address);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RpcError(Code.INVALID_ARGUMENT, `not an http:// address: ${JSON.stringify(address)}`);
    this.address = address;
    this.base = url.origin;
    this.maxResponseBytes = options.maxResponseBytes ?? 16 * 1024 * 1024;
    this.sender = options.sender ?? fetchSender(this.base, options.fetch ?? ((input, init) => fetch(input, init)), options.closeFetch);
    this.backoff = new Backoff(options.backoff ?? defaultBackoff);
  }

  get state(): ChannelState {
    if (this.shutdown) return 'SHUTDOWN';
    if (Date.now() < this.retryAt) return 'TRANSIENT_FAILURE';
    return this.used ? 'READY' : 'IDLE';
  }

  /** True while the server's answers say it is shutting down. */
  get draining(): boolean {
    return this.leaving;
  }

  async call(invocation: Invocation, serviceId: string): Promise<unknown> {
    this.sent++;
    if (this.shutdown) throw new RpcError(Code.UNAVAILABLE, `channel to ${this.address} is closed`, { unprocessed: true });
    const refused = refusal(invocation);
    if (refused !== undefined) throw refused;
    const kind = invocation.service.methods.get(invocation.method)?.stream;
    let input: RequestStream | undefined;
    if (kind === 'bidi') throw bidiRefused(serviceId, invocation.method);
    if (kind === 'client') input = requestStreamOf(invocation.args, invocation.method);
    // An infinite deadline is none; a finite one of any length is kept (see core/timer.ts).
    const deadline = invocation.deadline;
    const timeoutMs = deadline === undefined || deadline === Infinity ? undefined : Math.max(1, Math.ceil(deadline - Date.now()));
    let headers: Readonly<Record<string, string>>;
    let body: Uint8Array | undefined;
    try {
      headers = this.headers(invocation, serviceId, timeoutMs);
      if (input === undefined) body = json.encode(invocation.args);
      else headers = { ...headers, 'content-type': NDJSON };
    } catch (error) {
      throw new RpcError(Code.INVALID_ARGUMENT, `cannot send the call: ${errorMessage(error)}`, { unprocessed: true, cause: error });
    }

    // The call's deadline, its caller and close() give the request up through the call.
    const call = new FetchCall(invocation, this.address, input);
    this.calls.add(call);
    if (input !== undefined) call.input = requestBody(input, call);

    let response: SentResponse;
    try {
      const path = this.pathOf(serviceId, invocation.method);
      response = await (body !== undefined ? this.sender.send(path, headers, body, call) : this.sender.sendStream(path, headers, call.input!, call));
    } catch (error) {
      this.release(call);
      if (call.reason !== undefined) throw call.reason;
      this.retryAt = Date.now() + this.backoff.next();
      const cause = this.sender.causeOf(error);
      if (isTlsFailure(cause)) throw tlsFailure(cause, this.address);
      const code = field(cause, 'code');
      throw new RpcError(Code.UNAVAILABLE, `cannot reach ${this.address}: ${this.describe(error, code)}`, { unprocessed: typeof code === 'string' && notSent.has(code) && input?.pulled !== true, cause: error });
    }
    this.used = true;
    this.retryAt = 0;
    this.backoff.reset();
    let streaming = false;
    let reading = false;
    try {
      this.leaving = response.header(Header.draining) === '1';
      const metadata = response.metadata();
      if (metadata !== undefined) for (const [key, value] of metadata) invocation.responseMetadata.set(key, value);
      const contentType = response.header('content-type');
      const ok = response.status >= 200 && response.status < 300;
      reading = true;
      if (ok && contentType?.startsWith('application/x-ndjson')) {
        streaming = true;
        return guard(readLines(response.reader(), json, this.maxResponseBytes, () => this.release(call)), () => call.reason);
      }
      // A small answer is usually all in by now: then it is taken without another turn of the event loop.
      const bytes = response.bytesNow?.(this.maxResponseBytes) ?? await response.bytes(this.maxResponseBytes);
      if (!ok) throw decodeError(response.status, response.statusText, bytes, isJson(contentType));
      return bytes.byteLength === 0 ? undefined : json.decode(bytes);
    } catch (error) {
      if (!reading) response.discard();
      throw call.reason ?? RpcError.from(error, Code.INTERNAL);
    } finally {
      if (!streaming) this.release(call);
    }
  }

  /** The channel is done with `call` (answered, failed, or its stream read to the end), once. */
  private release(call: FetchCall): void {
    if (call.released) return;
    call.released = true;
    call.release();
    if (call.source !== undefined) {
      // The answer came (perhaps before the stream ended), or the call failed: the source is pulled no more.
      call.input?.close();
      call.source.close();
    }
    this.calls.delete(call);
    if (this.calls.size === 0) this.idle?.();
  }

  /** Bytes are those of the sender's connections: 0 with `fetch`, which keeps its sockets to itself. */
  info(): ChannelInfo {
    const protocol = this.base.startsWith('https:') ? 'https' : 'http';
    const { bytesIn, bytesOut } = this.sender;
    return { address: this.address, protocol, state: this.state, draining: this.draining, bytesIn, bytesOut, calls: this.sent, active: this.calls.size };
  }

  async close(timeoutMs = 5000): Promise<void> {
    this.shutdown = true;
    await this.settle(timeoutMs);
    await this.sender.close();
  }

  /** Waits for the calls in flight, for at most `timeoutMs`, then cancels those left. */
  private async settle(timeoutMs: number): Promise<void> {
    if (this.calls.size === 0) return;
    await new Promise<void>((resolve) => {
      const timer = startTimer(timeoutMs, () => {
        for (const call of this.calls.toArray()) call.abort(new RpcError(Code.CANCELLED, 'client closed'));
        resolve();
      }, undefined);
      this.idle = () => {
        stopTimer(timer);
        resolve();
      };
    });
  }

  /**
   * Why a request failed (`code` is that of the network's error). A connection closed before any
   * answer is what an `https://` server does to a plaintext request, so on an `http://` address
   * that says so.
   */
  private describe(error: unknown, code: unknown): string {
    const described = describe(error);
    if (code !== 'UND_ERR_SOCKET' || !/other side closed/.test(described)) return described;
    const hint = this.base.startsWith('https:')
      ? 'a server that requires client certificates does this to a client without a trusted one'
      : 'an https:// server does this to a plaintext request: if it is one, call it at an https:// address';
    return `${described}: the server closed the connection without answering (${hint})`;
  }

  private pathOf(serviceId: string, method: string): string {
    const target = this.targetOf(serviceId);
    let path = target.paths.get(method);
    if (path === undefined) {
      path = `/${encodeURIComponent(target.name)}/${encodeURIComponent(method)}`;
      target.paths.set(method, path);
    }
    return path;
  }

  private targetOf(serviceId: string): Target {
    let target = this.targets.get(serviceId);
    if (target === undefined) {
      const { name, version, group } = splitServiceId(serviceId);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (version !== undefined) headers[Header.version] = version;
      if (group !== undefined) headers[Header.group] = group;
      target = { name, headers: Object.freeze(headers), paths: new Map() };
      this.targets.set(serviceId, target);
    }
    return target;
  }

  /**
   * The request's headers. A call with no deadline, metadata or one-way flag shares its service's
   * headers, made once: the senders only read them.
   */
  private headers(invocation: Invocation, serviceId: string, timeoutMs: number | undefined): Readonly<Record<string, string>> {
    const target = this.targetOf(serviceId);
    // Read without making it: a call nobody gave metadata has none.
    const metadata = requestMetadataOf(invocation);
    const plain = timeoutMs === undefined && !invocation.oneWay && (metadata === undefined || metadata.size === 0);
    if (plain) return target.headers;
    const headers: Record<string, string> = { ...target.headers };
    if (timeoutMs !== undefined) headers[Header.timeout] = String(Math.min(timeoutMs, MAX_TIMEOUT_MS));
    if (invocation.oneWay) headers[Header.oneWay] = '1';
    if (metadata !== undefined && metadata.size > 0) for (const [name, value] of metadataHeaders(metadata)) headers[name] = value;
    return headers;
  }
}

/** One call's request, aborted when the call's deadline passes, its caller cancels or the channel closes. */
class FetchCall extends CallWatch implements RequestControl, Listed<FetchCall> {
  listPrev: FetchCall | undefined = undefined;
  listNext: FetchCall | undefined = undefined;
  /** Why the call was given up, if it was (not by close(), whose calls fail as the sender says). */
  reason: RpcError | undefined;
  abortReason: RpcError | undefined = undefined;
  onAbort: Abortable | undefined = undefined;
  /** A client stream's request body, and the caller's stream it is made of. */
  input: NdjsonBody | undefined = undefined;
  released = false;

  constructor(invocation: Invocation, address: string, readonly source: RequestStream | undefined) {
    super();
    this.watch(invocation, address);
  }

  /** Gives the request up with `reason`, once. */
  abort(reason: RpcError): void {
    if (this.abortReason !== undefined) return;
    this.abortReason = reason;
    this.onAbort?.abort(reason);
  }

  release(): void {
    this.unwatch();
  }

  /** Gives the call up with `error` as its outcome: its request stream failed. */
  fail(error: RpcError): void {
    this.abandon(error);
  }

  protected override abandon(error: RpcError): void {
    this.reason ??= error;
    this.abort(error);
    this.input?.abort(error);
  }
}

const NDJSON = 'application/x-ndjson';

/** The NDJSON body of a client-streaming call: the source is pumped into it once the sender starts sending. */
function requestBody(input: RequestStream, call: FetchCall): NdjsonBody {
  return new NdjsonBody(
    (item) => json.encode(item),
    (body) => void pumpRequestStream(input, body),
    (error) => call.fail(error),
  );
}

/** HTTP/1.1 carries no stream both ways that every client and proxy supports (docs/http.md, "Bidi streams"). */
function bidiRefused(serviceId: string, method: string): RpcError {
  return new RpcError(Code.UNIMPLEMENTED,
    `${serviceId}.${method} streams both ways (stream: 'bidi'), which http:// and https:// do not carry: HTTP/1.1 has no request stream the server can answer while it is sent; call it over grpc:// or tcp://`,
    { unprocessed: true });
}

/** A stream whose failures after a deadline or cancel say so, rather than "aborted". */
function guard(items: AsyncGenerator<unknown>, reason: () => RpcError | undefined): AsyncIterable<unknown> {
  return {
    [Symbol.asyncIterator]: () => ({
      next: () => items.next().catch((error: unknown) => {
        throw reason() ?? RpcError.from(error, Code.UNAVAILABLE);
      }),
      return: (value?: unknown) => items.return(value),
    }),
  };
}

/** A field of a caught value, or undefined; never throws (a getter or a Proxy trap may). */
function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? readField(value, key) : undefined;
}

function describe(error: unknown): string {
  const cause = field(error, 'cause');
  const message = errorMessage(error);
  return cause === undefined ? message : `${message} (${errorMessage(cause)})`;
}

interface Target {
  readonly name: string;
  /** The headers of a call that adds none: content type, version and group. */
  readonly headers: Readonly<Record<string, string>>;
  readonly paths: Map<string, string>;
}
