import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { MethodEntry } from '../../core/call-table.js';
import { Code } from '../../core/code.js';
import { passGate } from '../../core/gate.js';
import type { Metadata } from '../../core/metadata.js';
import type { Principal } from '../../core/principal.js';
import { errorMessage, RpcError } from '../../core/rpc-error.js';
import { ServerCall } from '../../core/server-call.js';
import { certificatePrincipal } from '../tls/peer.js';
import type { ServerContext } from '../transport.js';
import { readBodyThen } from './body.js';
import { HttpCall, type CallHost } from './dispatch.js';
import type { Exchange } from './exchange.js';
import { Header, firstValue, isJson, readHeaderObjectMetadata, readTimeout } from './headers.js';
import { RequestLines } from './request-lines.js';
import { wantsEvents } from './sse.js';
import { answerAsAccepted, takeXmlBody } from './xml/rest-format.js';

/**
 * Starts the call a request was routed to: reads its headers (metadata, deadline, one-way), asks
 * the server's gate, reads its body (whole, or line by line for a client stream) and hands the
 * call to the dispatcher through an `HttpCall`. What answers it is in dispatch.ts and exchange.ts.
 */
export class HttpCallStarter {
  constructor(
    private readonly context: ServerContext,
    private readonly maxBodyBytes: number,
    private readonly callHost: CallHost,
  ) {}

  serve(exchange: Exchange, entry: MethodEntry, argsOf: (body: unknown, hasBody: boolean) => unknown[]): void {
    const { req } = exchange;
    const kind = entry.options.stream;
    if (kind !== undefined) {
      if (kind !== 'server') exchange.requestStream = true;
      if (kind === 'bidi') {
        exchange.fail(bidiRefused(entry));
        return;
      }
      if (kind === 'server') exchange.events = wantsEvents(req.headers.accept);
    }
    let metadata: Metadata | undefined;
    let timeoutMs: number | undefined;
    try {
      metadata = readHeaderObjectMetadata(req.headers);
      timeoutMs = readTimeout(firstValue(req.headers[Header.timeout]));
    } catch (error) {
      exchange.fail(RpcError.from(error, Code.INVALID_ARGUMENT));
      return;
    }
    const tooMuch = this.context.limits?.metadataRefusal(metadata);
    if (tooMuch !== undefined) return exchange.fail(tooMuch, 431);
    if (timeoutMs === 0) {
      exchange.fail(new RpcError(Code.DEADLINE_EXCEEDED, 'deadline exceeded before the call arrived'));
      return;
    }
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    const declared = req.headers['content-length'];
    const mayHaveBody = (declared !== undefined && declared !== '0') || req.headers['transfer-encoding'] !== undefined;
    if (kind === 'client') {
      if (mayHaveBody && !isNdjson(req.headers['content-type'])) {
        exchange.fail(new RpcError(Code.INVALID_ARGUMENT, `the request stream of ${entry.method} must be application/x-ndjson (one JSON value a line), not ${req.headers['content-type'] ?? 'untyped'}`), 415);
        return;
      }
    } else if (mayHaveBody && !isJson(req.headers['content-type'])) {
      if (!takeXmlBody(exchange, entry)) {
        exchange.fail(new RpcError(Code.INVALID_ARGUMENT, `a request body must be application/json, not ${req.headers['content-type'] ?? 'untyped'}`), 415);
        return;
      }
    } else if (req.headers.accept !== undefined) {
      answerAsAccepted(exchange, entry, req.headers.accept);
    }
    const oneWay = firstValue(req.headers[Header.oneWay]) === '1' || entry.options.oneWay === true;
    if (oneWay && kind !== undefined) {
      exchange.fail(new RpcError(Code.INVALID_ARGUMENT, `${entry.service.id}.${entry.method} streams, so it cannot be called one-way`));
      return;
    }
    const peer = peerOf(req.socket);
    const gate = this.context.gate;
    if (gate === undefined) {
      this.run(exchange, entry, argsOf, new ServerCall(entry.service, entry.method, [], metadata, deadline, oneWay), peer);
      return;
    }
    // Decided on the headers alone: a refused caller's body is never decoded. The callbacks reach
    // the exchange only through a variable they clear first, for the reason given in `run`.
    let waiting: Exchange | undefined = exchange;
    const request = { service: entry.service, method: entry.method, metadata, peer, protocol: (req.socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http' };
    passGate(gate, request, (principal) => {
      const admitted = waiting!;
      waiting = undefined;
      this.run(admitted, entry, argsOf, new ServerCall(entry.service, entry.method, [], metadata, deadline, oneWay), principal);
    }, (error) => {
      const refused = waiting;
      waiting = undefined;
      refused?.fail(error);
    });
  }

  /** Reads an admitted call's body into its arguments, then runs it. */
  private run(exchange: Exchange, entry: MethodEntry, argsOf: (body: unknown, hasBody: boolean) => unknown[], call: ServerCall, principal: Principal | undefined): void {
    call.principal = principal;
    if (exchange.requestStream) {
      this.runStreaming(exchange, entry, call);
      return;
    }
    // The handler starts inside the callback below, and an error made meanwhile keeps the callback
    // (through its stack trace) for as long as the error lives, maybe for ever as a call's abort
    // reason: so the callback reaches the exchange only through a variable it clears first.
    let pending: Exchange | undefined = exchange;
    readBodyThen(exchange.req, this.maxBodyBytes, true,
      (bytes) => {
        const exchange = pending!;
        pending = undefined;
        try {
          const hasBody = bytes.byteLength > 0;
          call.requestBytes = bytes.byteLength;
          const decodeBody = exchange.format?.decodeBody;
          call.args = argsOf(hasBody ? (decodeBody === undefined ? this.context.serializers.json.decode(bytes) : decodeBody(bytes)) : undefined, hasBody);
        } catch (error) {
          exchange.fail(error instanceof RpcError ? error : new RpcError(Code.INVALID_ARGUMENT, `cannot decode arguments: ${errorMessage(error)}`));
          return;
        }
        try {
          new HttpCall(this.callHost, exchange, entry, call);
        } catch (error) {
          this.context.logger.error({ message: errorMessage(error) }, 'HTTP transport failed to start a call');
          exchange.fail(new RpcError(Code.INTERNAL, 'the server failed to start the call'));
        }
      },
      (error: RpcError) => pending?.fail(error),
    );
  }

  /** Runs a client-streaming call at once, its handler reading the request's lines as they come. */
  private runStreaming(exchange: Exchange, entry: MethodEntry, call: ServerCall): void {
    const { json } = this.context.serializers;
    let running: HttpCall | undefined;
    const lines = new RequestLines(exchange.req, this.maxBodyBytes, {
      decode: (line) => json.decode(line),
      fail: (error) => running?.refuse(error),
      received: (bytes) => {
        call.requestBytes += bytes;
      },
    });
    call.args = [lines.stream];
    call.requestBytes = 0;
    try {
      running = new HttpCall(this.callHost, exchange, entry, call, lines);
    } catch (error) {
      this.context.logger.error({ message: errorMessage(error) }, 'HTTP transport failed to start a call');
      exchange.fail(new RpcError(Code.INTERNAL, 'the server failed to start the call'));
    }
  }
}

/** The identity of an https client's certificate, worked out once per connection. */
const peers = new WeakMap<Socket, Principal | undefined>();
function peerOf(socket: Socket): Principal | undefined {
  if ((socket as { encrypted?: boolean }).encrypted !== true) return undefined;
  if (!peers.has(socket)) peers.set(socket, certificatePrincipal(socket as TLSSocket));
  return peers.get(socket);
}

/** HTTP/1.1 carries no stream both ways that every client and proxy supports (docs/http.md, "Bidi streams"). */
function bidiRefused(entry: MethodEntry): RpcError {
  return new RpcError(Code.UNIMPLEMENTED, `${entry.service.id}.${entry.method} streams both ways (stream: 'bidi'), which http:// and https:// do not carry; call it over grpc:// or tcp://`);
}

function isNdjson(contentType: string | undefined): boolean {
  return contentType !== undefined && /^application\/(x-)?ndjson\s*(;|$)/i.test(contentType.trim());
}

