import { constants, type Http2Stream, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { Code } from '../../core/code.js';
import type { Metadata, MetadataValue } from '../../core/metadata.js';
import { errorMessage, RpcError } from '../../core/rpc-error.js';
import type { ServerCall } from '../../core/server-call.js';
import { ACCEPT_ENCODING, type Encoding } from './compression.js';
import { contentTypeFor } from './content-type.js';
import { frameMessage } from './message.js';
import { writeMetadata } from './metadata.js';
import { writeErrorStatus } from './status.js';

// The headers of most responses (no metadata, no compression), made once per content type.
const plainHeaders = new Map<string, OutgoingHttpHeaders>();

/** Response headers; throws an INTERNAL `RpcError` when the handler set metadata that cannot be sent. */
export function responseHeaders(codec: string, encoding: Encoding, metadata: Metadata | undefined): OutgoingHttpHeaders {
  if (metadata === undefined && encoding === 'identity') {
    let headers = plainHeaders.get(codec);
    if (headers === undefined) {
      headers = Object.freeze({ ':status': 200, 'content-type': contentTypeFor(codec), 'grpc-accept-encoding': ACCEPT_ENCODING });
      plainHeaders.set(codec, headers);
    }
    return headers;
  }
  const headers: OutgoingHttpHeaders = { ':status': 200, 'content-type': contentTypeFor(codec), 'grpc-accept-encoding': ACCEPT_ENCODING };
  if (encoding !== 'identity') headers['grpc-encoding'] = encoding;
  if (metadata !== undefined) {
    try {
      writeMetadata(metadata, headers);
    } catch (error) {
      throw new RpcError(Code.INTERNAL, `cannot send the response metadata: ${errorMessage(error)}`);
    }
  }
  return headers;
}

/** `trailers` plus the response metadata that was set, or changed, after the headers went out. */
export function lateMetadata(trailers: OutgoingHttpHeaders, call: ServerCall | undefined, sent: ReadonlyMap<string, MetadataValue> | undefined): OutgoingHttpHeaders {
  if (call?.hasResponseMetadata !== true) return trailers;
  const late: Array<[string, MetadataValue]> = [];
  for (const [key, value] of call.responseMetadata) if (sent?.get(key) !== value) late.push([key, value]);
  if (late.length === 0) return trailers;
  const out = { ...trailers };
  try {
    writeMetadata(late, out);
  } catch {
    return trailers; // the status matters more than metadata that cannot be sent
  }
  return out;
}

/**
 * Answers with the status alone (gRPC's Trailers-Only response): one HEADERS frame that ends the
 * stream. If the request is still arriving, the stream is then reset, so the client stops sending.
 */
export function trailersOnly(stream: ServerHttp2Stream, codec: string | undefined, error: RpcError, metadata?: Metadata): void {
  const headers: OutgoingHttpHeaders = { ':status': 200, 'content-type': contentTypeFor(codec ?? 'proto') };
  if (metadata !== undefined) {
    try {
      writeMetadata(metadata, headers);
    } catch {
      // metadata that cannot be sent is dropped; the error status matters more
    }
  }
  writeErrorStatus(error, headers);
  try {
    stream.respond(headers, { endStream: true });
  } catch {
    // Node refused the headers (the stream went away meanwhile): reset it, the one answer left
    if (!stream.destroyed) stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    return;
  }
  if (!stream.readableEnded) stream.close(constants.NGHTTP2_NO_ERROR);
}

/** A response that is not gRPC: wrong HTTP method or content type. */
export function plainHttp(stream: ServerHttp2Stream, status: number, extra: OutgoingHttpHeaders = {}): void {
  stream.respond({ ':status': status, ...extra }, { endStream: true });
  if (!stream.readableEnded) stream.close(constants.NGHTTP2_NO_ERROR);
}

/** Writes one framed message (a response, or an item of a request stream); false when the stream asks to wait for 'drain'. */
export function writeMessage(stream: Http2Stream, bytes: Uint8Array, compressed: boolean): boolean {
  const framed = frameMessage(bytes, compressed);
  if (!Array.isArray(framed)) return stream.write(framed);
  stream.write(framed[0]);
  return stream.write(framed[1]);
}

/** Writes the last message and ends the stream (the trailers follow on 'wantTrailers'). */
export function endWithMessage(stream: ServerHttp2Stream, bytes: Uint8Array, compressed: boolean): void {
  const framed = frameMessage(bytes, compressed);
  if (Array.isArray(framed)) {
    stream.write(framed[0]);
    stream.end(framed[1]);
  } else {
    stream.end(framed);
  }
}

/** Resolves when the stream may be written again, or once it is gone (at once if it is gone already). */
export function drained(stream: Http2Stream): Promise<void> {
  if (stream.closed || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
