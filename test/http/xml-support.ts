import { decodeElement } from '../../src/transport/http/xml/decode.js';
import { encodeElement } from '../../src/transport/http/xml/encode.js';
import { ROOT_DECLARATIONS } from '../../src/transport/http/xml/namespaces.js';
import { parseXml } from '../../src/transport/http/xml/tree.js';
import { rawRequest, type RawResponse } from '../support/http.js';

/** The namespace declarations a hand-written body needs for `xsi:type` and `sy:` types. */
export const NS = ROOT_DECLARATIONS;

/** An `<args>` body of the given arguments, written by the mapping of docs/http.md. */
export function argsBody(args: readonly unknown[]): string {
  return `<args${NS}>${args.map((arg, i) => encodeElement(`arg${i}`, arg)).join('')}</args>`;
}

/** POSTs an XML body (or JSON, by its content type) and reads the answer. */
export function postXml(address: string, path: string, body: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return rawRequest(address, 'POST', path, { headers: { 'content-type': 'application/xml', ...headers }, body });
}

/** The value of an XML `<result>` answer. */
export function resultOf(response: RawResponse): unknown {
  const root = parseXml(new TextEncoder().encode(response.text));
  if (root.local !== 'result') throw new Error(`expected a <result>, got: ${response.text.slice(0, 300)}`);
  return decodeElement(root);
}
