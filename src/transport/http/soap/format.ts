import type { OutgoingHttpHeaders } from 'node:http';
import type { MethodEntry } from '../../../core/call-table.js';
import { Code } from '../../../core/code.js';
import { errorMessage, RpcError } from '../../../core/rpc-error.js';
import type { ServerCall } from '../../../core/server-call.js';
import type { Exchange } from '../exchange.js';
import type { AnswerFormat } from '../xml/answer-format.js';
import { encodeElement } from '../xml/encode.js';
import { methodXmlTypes } from '../xml/method-types.js';
import { encodeName } from '../xml/names.js';
import { envelope, type SoapVersion } from './envelope.js';
import { faultOf } from './fault.js';

const encoder = new TextEncoder();

/**
 * How a SOAP request is answered: every failure as a fault of its version, and, once its operation
 * is known, the result as `<tns:{method}Response><return>…</return></tns:{method}Response>`
 * (no `return` for `undefined`). The body was read by the endpoint, so there is none to decode.
 */
export class SoapFormat implements AnswerFormat {
  /** The operation being answered: its namespace and method. */
  operation: { ns: string; entry: MethodEntry } | undefined;
  /** The envelope's size: read before the call existed, it is told to the call when answered. */
  requestBytes = 0;

  constructor(private readonly version: SoapVersion) {}

  readonly result = (exchange: Exchange, call: ServerCall, value: unknown, metadata: ReadonlyArray<[string, string]> | undefined): void => {
    const { operation } = this;
    if (operation === undefined) return exchange.fail(new RpcError(Code.INTERNAL, 'no SOAP operation to answer'));
    let body: Uint8Array;
    try {
      const name = `tns:${encodeName(operation.entry.method)}Response`;
      const content = value === undefined ? '' : encodeElement('return', value, '', methodXmlTypes(operation.entry).result);
      body = encoder.encode(envelope(this.version, `<${name} xmlns:tns="${operation.ns}">${content}</${name}>`));
    } catch (error) {
      return exchange.fail(new RpcError(Code.INTERNAL, `cannot encode the result: ${errorMessage(error)}`));
    }
    call.requestBytes = this.requestBytes;
    call.responseBytes = body.byteLength;
    exchange.send(200, body, this.version.contentType, metadata);
  };

  readonly fail = (exchange: Exchange, error: RpcError, _status: number, metadata?: ReadonlyArray<[string, string]>, extra?: OutgoingHttpHeaders): void => {
    const fault = faultOf(error, this.version);
    exchange.send(fault.status, encoder.encode(fault.body), this.version.contentType, metadata, extra);
  };
}
