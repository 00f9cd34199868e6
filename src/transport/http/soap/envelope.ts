import { Code } from '../../../core/code.js';
import { RpcError } from '../../../core/rpc-error.js';
import { ROOT_DECLARATIONS } from '../xml/namespaces.js';
import type { XmlElement } from '../xml/tree.js';

/** What differs between SOAP 1.1 and 1.2 on the wire. */
export interface SoapVersion {
  readonly name: '1.1' | '1.2';
  /** The envelope's namespace. */
  readonly ns: string;
  readonly contentType: string;
  /** Fault codes for the caller's mistakes and the server's. */
  readonly sender: string;
  readonly receiver: string;
}

export const SOAP11: SoapVersion = {
  name: '1.1',
  ns: 'http://schemas.xmlsoap.org/soap/envelope/',
  contentType: 'text/xml; charset=utf-8',
  sender: 'Client',
  receiver: 'Server',
};

export const SOAP12: SoapVersion = {
  name: '1.2',
  ns: 'http://www.w3.org/2003/05/soap-envelope',
  contentType: 'application/soap+xml; charset=utf-8',
  sender: 'Sender',
  receiver: 'Receiver',
};

/** SOAP 1.1 travels as `text/xml`, 1.2 as `application/soap+xml`; anything else is no SOAP request. */
export function soapVersionOf(contentType: string | undefined): SoapVersion | undefined {
  const type = contentType?.split(';')[0]!.trim().toLowerCase();
  if (type === 'text/xml') return SOAP11;
  if (type === 'application/soap+xml') return SOAP12;
  return undefined;
}

/** A SOAP-level fault that is no call's error: the envelope's version, or a header nobody here understands. */
export class SoapProtocolError extends RpcError {
  constructor(readonly soapCode: 'VersionMismatch' | 'MustUnderstand', message: string) {
    super(Code.INVALID_ARGUMENT, message, { name: 'SoapProtocolError' });
  }
}

/**
 * The body's first element of an envelope (the operation element, in document/literal wrapped
 * style) or, for a response, the response element or the Fault. Refuses an envelope of the other
 * version (VersionMismatch) and header blocks marked `mustUnderstand` (no header is understood
 * here: metadata travels as HTTP headers).
 */
export function bodyElementOf(root: XmlElement, version: SoapVersion): XmlElement | undefined {
  if (root.local !== 'Envelope' || root.ns !== version.ns) {
    if (root.local === 'Envelope' && (root.ns === SOAP11.ns || root.ns === SOAP12.ns)) {
      throw new SoapProtocolError('VersionMismatch', `a SOAP ${version.name} request must hold an envelope of namespace ${version.ns}, not ${root.ns}`);
    }
    throw new RpcError(Code.INVALID_ARGUMENT, `a SOAP request must be a SOAP ${version.name} Envelope, not <${root.local}>`);
  }
  const header = root.children.find((child) => child.local === 'Header' && child.ns === version.ns);
  for (const block of header?.children ?? []) {
    const must = block.attributes.get(`{${version.ns}}mustUnderstand`)?.trim();
    if (must === '1' || must === 'true') throw new SoapProtocolError('MustUnderstand', `the header block <${block.local}> (${block.ns}) is not understood here`);
  }
  const body = root.children.find((child) => child.local === 'Body' && child.ns === version.ns);
  if (body === undefined) throw new RpcError(Code.INVALID_ARGUMENT, 'the SOAP envelope has no Body');
  return body.children[0];
}

/** An envelope around `content` (the body's elements), declaring the value mapping's namespaces. */
export function envelope(version: SoapVersion, content: string, declarations = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<soap:Envelope xmlns:soap="${version.ns}"${ROOT_DECLARATIONS}${declarations}><soap:Body>${content}</soap:Body></soap:Envelope>`;
}
