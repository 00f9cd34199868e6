import { Code, codeName } from '../../../core/code.js';
import { RpcError } from '../../../core/rpc-error.js';
import { decodeElement } from '../xml/decode.js';
import { errorElement, errorFromElement, safeText } from '../xml/error-element.js';
import { SY } from '../xml/namespaces.js';
import type { XmlElement } from '../xml/tree.js';
import { envelope, SoapProtocolError, type SoapVersion } from './envelope.js';

/** Codes that blame the request (a `Client`/`Sender` fault); the rest blame the server. */
const SENDER_CODES = new Set<number>([Code.INVALID_ARGUMENT, Code.NOT_FOUND, Code.PERMISSION_DENIED, Code.UNAUTHENTICATED, Code.FAILED_PRECONDITION, Code.UNIMPLEMENTED]);

/**
 * A failed call as a SOAP fault: 1.1 `faultcode`/`faultstring`/`detail`, 1.2 `Code` (with the
 * Switchyard code as its `Subcode`, `sy:NOT_FOUND`), `Reason` and `Detail`. The detail holds
 * `<sy:error>` with the code, name, message and details, as an XML error body does. The HTTP status
 * is 500 for SOAP 1.1 (as its HTTP binding says) and, for 1.2, 400 for a Sender fault, else 500.
 */
export function faultOf(error: RpcError, version: SoapVersion): { status: number; body: string } {
  const protocol = error instanceof SoapProtocolError ? error.soapCode : undefined;
  const blamesSender = SENDER_CODES.has(error.code);
  const code = protocol ?? (blamesSender ? version.sender : version.receiver);
  const detail = errorElement(error, 'sy:error');
  const reason = safeText(error.message);
  if (version.name === '1.1') {
    const fault = `<soap:Fault><faultcode>soap:${code}</faultcode><faultstring>${reason}</faultstring>${protocol === undefined ? `<detail>${detail}</detail>` : ''}</soap:Fault>`;
    return { status: 500, body: envelope(version, fault) };
  }
  const subcode = protocol === undefined ? `<soap:Subcode><soap:Value>sy:${codeName(error.code)}</soap:Value></soap:Subcode>` : '';
  const fault = `<soap:Fault><soap:Code><soap:Value>soap:${code}</soap:Value>${subcode}</soap:Code><soap:Reason><soap:Text xml:lang="en">${reason}</soap:Text></soap:Reason>${protocol === undefined ? `<soap:Detail>${detail}</soap:Detail>` : ''}</soap:Fault>`;
  return { status: protocol === undefined && !blamesSender ? 500 : 400, body: envelope(version, fault) };
}

/**
 * The error a received fault stands for: the Switchyard error in its detail if it has one, else
 * INVALID_ARGUMENT for a Client/Sender fault and UNKNOWN otherwise, with the fault's code and
 * decoded detail in the details (`{ faultcode, detail }`).
 */
export function errorOfFault(fault: XmlElement, version: SoapVersion): RpcError {
  const child = (parent: XmlElement | undefined, local: string) => parent?.children.find((each) => each.local === local);
  const detail = version.name === '1.1' ? child(fault, 'detail') : child(fault, 'Detail');
  const own = detail?.children.find((each) => each.local === 'error' && each.ns === SY);
  const switchyard = own === undefined ? undefined : errorFromElement(own);
  if (switchyard !== undefined) return switchyard;
  const code = version.name === '1.1' ? child(fault, 'faultcode')?.text.trim() : child(child(fault, 'Code'), 'Value')?.text.trim();
  const reason = version.name === '1.1' ? child(fault, 'faultstring')?.text : child(child(fault, 'Reason'), 'Text')?.text;
  const local = code?.slice(code.indexOf(':') + 1);
  let decoded: unknown;
  try {
    decoded = detail === undefined ? undefined : decodeElement(detail);
  } catch {
    decoded = detail?.text;
  }
  const details: Record<string, unknown> = { faultcode: code ?? '' };
  if (decoded !== undefined && decoded !== '') details.detail = decoded;
  return new RpcError(local === version.sender ? Code.INVALID_ARGUMENT : Code.UNKNOWN, `SOAP fault ${code ?? ''}: ${reason ?? ''}`.trim(), { details });
}
