import type { OutgoingHttpHeaders } from 'node:http';
import type { MethodEntry } from '../../../core/call-table.js';
import { Code } from '../../../core/code.js';
import { errorMessage, RpcError } from '../../../core/rpc-error.js';
import type { Exchange } from '../exchange.js';
import type { AnswerFormat } from './answer-format.js';
import { decodeElement } from './decode.js';
import { encodeElement } from './encode.js';
import { errorElement } from './error-element.js';
import { methodXmlTypes } from './method-types.js';
import { ROOT_DECLARATIONS } from './namespaces.js';
import { isXmlBody, prefersXml, XML_CONTENT_TYPE } from './negotiate.js';
import { parseXml } from './tree.js';

const PROLOG = '<?xml version="1.0" encoding="UTF-8"?>\n';
const encoder = new TextEncoder();

/**
 * Called once for a request whose body is not JSON: if it is XML, the exchange reads it (and
 * answers as `Accept` says) and true is returned; else false, and the request is refused with 415.
 * A SOAP request's exchange already has its format, and passes.
 */
export function takeXmlBody(exchange: Exchange, entry: MethodEntry): boolean {
  if (exchange.format !== undefined) return true;
  const { headers } = exchange.req;
  if (!isXmlBody(headers['content-type'])) return false;
  exchange.format = xmlFormat(entry, true, prefersXml(headers.accept, true));
  return true;
}

/** Called once for a request with a JSON body (or none) and an `Accept` header: XML answers if it prefers them. */
export function answerAsAccepted(exchange: Exchange, entry: MethodEntry, accept: string): void {
  if (exchange.format === undefined && prefersXml(accept, false)) exchange.format = xmlFormat(entry, false, true);
}

function xmlFormat(entry: MethodEntry, bodyIsXml: boolean, answerIsXml: boolean): AnswerFormat {
  return {
    decodeBody: bodyIsXml ? (bytes) => decodeArgsBody(bytes, entry) : undefined,
    result: answerIsXml ? answerResult : undefined,
    fail: answerIsXml ? answerError : undefined,
  };
}

/**
 * The argument rule for XML (docs/http.md, "XML"): a root `<args>` holds the arguments, one child
 * element each, in order (their names are free); any other root element is the single argument.
 * Elements without `xsi:type` are typed by the method's schemas when it has them.
 */
export function decodeArgsBody(bytes: Uint8Array, entry: MethodEntry): unknown {
  const root = parseXml(bytes);
  const { params } = methodXmlTypes(entry);
  if (root.local === 'args' && root.ns === '' && root.attributes.size === 0) {
    return root.children.map((child, i) => decodeElement(child, params?.[i]));
  }
  const value = decodeElement(root, params?.[0]);
  // The argument rule reads an array as the argument list: a single array argument goes inside one.
  return Array.isArray(value) ? [value] : value;
}

function answerResult(exchange: Exchange, call: { responseBytes: number }, value: unknown, metadata: ReadonlyArray<[string, string]> | undefined): void {
  if (value === undefined) {
    exchange.send(204, undefined, '', metadata);
    return;
  }
  let body: Uint8Array;
  try {
    body = encoder.encode(PROLOG + encodeElement('result', value, ROOT_DECLARATIONS));
  } catch (error) {
    return exchange.fail(new RpcError(Code.INTERNAL, `cannot encode the result: ${errorMessage(error)}`));
  }
  call.responseBytes = body.byteLength;
  exchange.send(200, body, XML_CONTENT_TYPE, metadata);
}

function answerError(exchange: Exchange, error: RpcError, status: number, metadata?: ReadonlyArray<[string, string]>, extra?: OutgoingHttpHeaders): void {
  const body = encoder.encode(PROLOG + errorElement(error, 'error', ROOT_DECLARATIONS));
  exchange.send(status, body, XML_CONTENT_TYPE, metadata, extra);
}
