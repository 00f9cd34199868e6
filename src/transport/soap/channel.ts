import { beforeSending, CallWatch, refusal } from '../../core/call-watch.js';
import { requestMetadataOf } from '../../core/client-call.js';
import { Code } from '../../core/code.js';
import type { Invocation } from '../../core/invocation.js';
import { errorMessage, RpcError } from '../../core/rpc-error.js';
import { Header, MAX_TIMEOUT_MS, metadataHeaders, readMetadata, splitServiceId } from '../http/headers.js';
import { readLimited } from '../http/response-body.js';
import { codeOf } from '../http/status-map.js';
import { bodyElementOf, envelope, SOAP12 } from '../http/soap/envelope.js';
import { errorOfFault } from '../http/soap/fault.js';
import { decodeElement } from '../http/xml/decode.js';
import { encodeElement } from '../http/xml/encode.js';
import { encodeName } from '../http/xml/names.js';
import { parseXml } from '../http/xml/tree.js';
import type { Channel, ChannelInfo, ChannelState } from '../transport.js';
import { readWsdl, type SoapOperation, type SoapPort } from './wsdl-reader.js';

export interface SoapChannelOptions {
  /** Largest response (and WSDL) read; larger ones fail with RESOURCE_EXHAUSTED. Default 16 MiB. */
  maxResponseBytes?: number;
}

// undici (under Node's fetch) reports these when nothing was sent: safe to retry elsewhere.
const notSent = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * Calls a SOAP service described by a WSDL, for `soap://host:port/path` addresses (docs/soap.md):
 * the WSDL is fetched from `http://host:port/path?wsdl` (or the `wsdl=` option) on the first call,
 * and kept. An address without a path is a Switchyard server's: each service is then at
 * `/soap/<service name>`, with its version and group in the usual headers;
 * and each call is a document/literal wrapped envelope POSTed to `http://host:port/path` itself (the
 * address is the provider, whatever host the WSDL's `soap:address` names): the operation named
 * as the method, the arguments as the input element's children in the WSDL's order, values by the
 * XML mapping of docs/http.md, metadata and deadline as the HTTP transport's headers. The result is
 * the output element's one child (an object of its children if it declares several); a fault is an
 * `RpcError` (the Switchyard error in its detail, if any).
 */
export class SoapChannel implements Channel {
  readonly address: string;
  /** The SOAP endpoint, or for an address without a path the server whose services are at /soap/<name>. */
  private readonly endpoint: URL;
  private readonly perService: boolean;
  private readonly wsdlOption: string | null;
  private readonly wanted: '1.1' | '1.2';
  private readonly maxResponseBytes: number;
  /** Each endpoint's port, read from its WSDL once. */
  private readonly ports = new Map<string, Promise<SoapPort>>();
  private readonly calls = new Set<SoapCall>();
  private shutdown = false;
  private sent = 0;
  private failedAt = 0;

  constructor(address: string, options: SoapChannelOptions = {}) {
    const url = new URL(address);
    if (url.protocol !== 'soap:' && url.protocol !== 'soaps:') throw new RpcError(Code.INVALID_ARGUMENT, `not a soap:// address: ${JSON.stringify(address)}`);
    this.address = address;
    const soapVersion = url.searchParams.get('soap') ?? '1.1';
    if (soapVersion !== '1.1' && soapVersion !== '1.2') throw new RpcError(Code.INVALID_ARGUMENT, `soap must be 1.1 or 1.2, not ${JSON.stringify(soapVersion)}`);
    this.wanted = soapVersion;
    const wsdl = url.searchParams.get('wsdl');
    url.searchParams.delete('soap');
    url.searchParams.delete('wsdl');
    this.endpoint = new URL(`${url.protocol === 'soaps:' ? 'https' : 'http'}://${url.host}${url.pathname}${url.search}`);
    this.perService = url.pathname === '' || url.pathname === '/';
    this.wsdlOption = wsdl;
    this.maxResponseBytes = options.maxResponseBytes ?? 16 * 1024 * 1024;
  }

  get state(): ChannelState {
    if (this.shutdown) return 'SHUTDOWN';
    if (this.failedAt > 0) return 'TRANSIENT_FAILURE';
    return this.ports.size === 0 ? 'IDLE' : 'READY';
  }

  get draining(): boolean {
    return false;
  }

  async call(invocation: Invocation, serviceId: string): Promise<unknown> {
    this.sent++;
    if (this.shutdown) throw new RpcError(Code.UNAVAILABLE, `channel to ${this.address} is closed`, { unprocessed: true });
    const service = splitServiceId(serviceId);
    const endpoint = this.perService ? new URL(`/soap/${encodeURIComponent(service.name)}${this.endpoint.search}`, this.endpoint) : this.endpoint;
    const wsdlUrl = this.wsdlOption ?? `${endpoint.origin}${endpoint.pathname}?${endpoint.search === '' ? 'wsdl' : `${endpoint.search.slice(1)}&wsdl`}`;
    const port = await beforeSending(this.portOf(wsdlUrl, service), invocation);
    const operation = port.operations.get(invocation.method);
    if (operation === undefined) throw new RpcError(Code.UNIMPLEMENTED, `the WSDL at ${wsdlUrl} has no operation ${JSON.stringify(invocation.method)}`, { unprocessed: true });
    if (invocation.service.methods.get(invocation.method)?.stream !== undefined) {
      throw new RpcError(Code.UNIMPLEMENTED, `${invocation.method} streams, which SOAP does not carry`, { unprocessed: true });
    }
    const refused = refusal(invocation);
    if (refused !== undefined) throw refused;
    let body: string;
    let headers: Record<string, string>;
    try {
      body = envelope(port.version, requestElement(operation, invocation.args));
      headers = this.headers(invocation, port, operation);
      if (this.perService && service.version !== undefined) headers[Header.version] = service.version;
      if (this.perService && service.group !== undefined) headers[Header.group] = service.group;
    } catch (error) {
      throw new RpcError(Code.INVALID_ARGUMENT, `cannot send the call: ${errorMessage(error)}`, { unprocessed: true, cause: error });
    }
    const call = new SoapCall(invocation, this.address);
    this.calls.add(call);
    try {
      let response: Response;
      try {
        response = await fetch(endpoint, { method: 'POST', headers, body, signal: call.controller.signal });
      } catch (error) {
        if (call.reason !== undefined) throw call.reason;
        const code = (error as { cause?: { code?: unknown } }).cause?.code;
        throw new RpcError(Code.UNAVAILABLE, `cannot reach ${this.address}: ${errorMessage((error as { cause?: unknown }).cause ?? error)}`, { unprocessed: typeof code === 'string' && notSent.has(code), cause: error });
      }
      const metadata = readMetadata(response.headers);
      if (metadata !== undefined) for (const [key, value] of metadata) invocation.responseMetadata.set(key, value);
      if ((invocation.oneWay || operation.response === undefined) && response.ok) {
        await response.body?.cancel();
        return undefined;
      }
      const bytes = await readLimited(response, this.maxResponseBytes).catch((error: unknown) => {
        throw call.reason ?? RpcError.from(error, Code.UNAVAILABLE);
      });
      return answerOf(response.status, bytes, port, operation);
    } finally {
      call.release();
      this.calls.delete(call);
    }
  }

  async close(): Promise<void> {
    this.shutdown = true;
    for (const call of this.calls) call.abandonWith(new RpcError(Code.UNAVAILABLE, `channel to ${this.address} closed`));
  }

  info(): ChannelInfo {
    return { address: this.address, protocol: 'soap', state: this.state, draining: false, bytesIn: 0, bytesOut: 0, calls: this.sent, active: this.calls.size };
  }

  /** The port of a WSDL, fetched once (per service version and group); a failed fetch is tried again by the next call. */
  private portOf(wsdlUrl: string, service: { version: string | undefined; group: string | undefined }): Promise<SoapPort> {
    const key = `${wsdlUrl} ${service.version ?? ''} ${service.group ?? ''}`;
    let port = this.ports.get(key);
    if (port === undefined) {
      port = this.fetchWsdl(wsdlUrl, service).then((read) => {
        this.failedAt = 0;
        return read;
      }, (error: unknown) => {
        this.ports.delete(key);
        this.failedAt = Date.now();
        throw error;
      });
      this.ports.set(key, port);
    }
    return port;
  }

  private async fetchWsdl(wsdlUrl: string, service: { version: string | undefined; group: string | undefined }): Promise<SoapPort> {
    const headers: Record<string, string> = {};
    if (this.perService && service.version !== undefined) headers[Header.version] = service.version;
    if (this.perService && service.group !== undefined) headers[Header.group] = service.group;
    let response: Response;
    try {
      response = await fetch(wsdlUrl, { headers });
    } catch (error) {
      throw new RpcError(Code.UNAVAILABLE, `cannot fetch the WSDL at ${wsdlUrl}: ${errorMessage((error as { cause?: unknown }).cause ?? error)}`, { unprocessed: true, cause: error });
    }
    const bytes = await readLimited(response, this.maxResponseBytes);
    if (!response.ok) throw new RpcError(codeOf(response.status), `cannot fetch the WSDL at ${wsdlUrl}: HTTP ${response.status}`, { unprocessed: true });
    return readWsdl(bytes, this.wanted);
  }

  private headers(invocation: Invocation, port: SoapPort, operation: SoapOperation): Record<string, string> {
    const action = JSON.stringify(operation.action);
    const headers: Record<string, string> = port.version === SOAP12
      ? { 'content-type': `${port.version.contentType}; action=${action}` }
      : { 'content-type': port.version.contentType, soapaction: action };
    const deadline = invocation.deadline;
    if (deadline !== undefined && deadline !== Infinity) headers[Header.timeout] = String(Math.min(Math.max(1, Math.ceil(deadline - Date.now())), MAX_TIMEOUT_MS));
    if (invocation.oneWay) headers[Header.oneWay] = '1';
    const metadata = requestMetadataOf(invocation);
    if (metadata !== undefined && metadata.size > 0) for (const [name, value] of metadataHeaders(metadata)) headers[name] = value;
    return headers;
  }
}

/** The operation element with one child per argument, named and typed as the WSDL declares its children. */
function requestElement(operation: SoapOperation, args: readonly unknown[]): string {
  const { ns, local, qualified, params } = operation.request;
  const declared = params.length;
  let count = args.length;
  while (count > 0 && args[count - 1] === undefined) count--;
  if (declared > 0 && count > declared) throw new RpcError(Code.INVALID_ARGUMENT, `${operation.name} takes ${declared} arguments, not ${count}`);
  const children: string[] = [];
  for (let i = 0; i < count; i++) {
    const param = params[i];
    const name = (qualified ? 'op:' : '') + encodeName(param?.name ?? `arg${i}`);
    const value = args[i];
    if (value === undefined) continue;
    if (param?.repeated === true && Array.isArray(value)) for (const item of value) children.push(encodeElement(name, item, '', param.type));
    else children.push(encodeElement(name, value, '', param?.type));
  }
  return `<op:${local} xmlns:op="${ns}">${children.join('')}</op:${local}>`;
}

/** The call's result from the response envelope, or the error its fault (or its status) stands for. */
function answerOf(status: number, bytes: Uint8Array, port: SoapPort, operation: SoapOperation): unknown {
  let element;
  try {
    element = bodyElementOf(parseXml(bytes), port.version);
  } catch (error) {
    if (status >= 200 && status < 300) throw new RpcError(Code.INTERNAL, `the SOAP response cannot be read: ${errorMessage(error)}`);
    throw new RpcError(codeOf(status), `HTTP ${status}: ${new TextDecoder().decode(bytes.subarray(0, 200)).trim()}`);
  }
  if (element?.local === 'Fault' && element.ns === port.version.ns) throw errorOfFault(element, port.version);
  if (status < 200 || status >= 300) throw new RpcError(codeOf(status), `HTTP ${status} without a SOAP fault`);
  if (element === undefined) return undefined;
  const fields = operation.response?.fields ?? [];
  if (fields.length <= 1) {
    const field = fields[0];
    if (field?.repeated === true) return element.children.map((child) => decodeElement(child, field.type));
    const child = element.children[0];
    return child === undefined ? undefined : decodeElement(child, field?.type);
  }
  return decodeElement(element, { kind: 'object', fields: new Map(fields.map((field) => [field.name, { type: field.type, required: false, repeated: field.repeated }])) });
}

/** One call in flight: aborted when its deadline passes, its caller cancels or the channel closes. */
class SoapCall extends CallWatch {
  readonly controller = new AbortController();
  reason: RpcError | undefined;

  constructor(invocation: Invocation, address: string) {
    super();
    this.watch(invocation, address);
  }

  abandonWith(error: RpcError): void {
    this.abandon(error);
  }

  release(): void {
    this.unwatch();
  }

  protected override abandon(error: RpcError): void {
    this.reason ??= error;
    this.controller.abort(error);
  }
}
