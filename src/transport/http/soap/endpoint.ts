import type { CallTable, MethodEntry } from '../../../core/call-table.js';
import { Code } from '../../../core/code.js';
import { RpcError } from '../../../core/rpc-error.js';
import { serviceId } from '../../../core/service.js';
import { readBodyThen } from '../body.js';
import type { HttpCallStarter } from '../call-starter.js';
import type { Exchange } from '../exchange.js';
import { Header, firstHeader } from '../headers.js';
import { decodeElement } from '../xml/decode.js';
import { methodXmlTypes } from '../xml/method-types.js';
import { decodeName } from '../xml/names.js';
import { parseXml } from '../xml/tree.js';
import { bodyElementOf, soapVersionOf, type SoapVersion } from './envelope.js';
import { SoapFormat } from './format.js';
import { targetNamespace, wsdlDocument } from './wsdl.js';

/**
 * SOAP 1.1 and 1.2 for every provided service (docs/soap.md): `POST /soap/<service>` (and
 * `POST /<service>`) takes an envelope, `GET` of either with `?wsdl` gives the service's WSDL. The
 * version and group come from the usual headers or from `?version=` and `?group=`. Once the
 * operation is read from the envelope, the call goes the way of every HTTP call (metadata headers,
 * deadline, gate, one-way), and every failure is answered as a fault.
 */
export class SoapEndpoint {
  constructor(
    private readonly table: CallTable,
    private readonly starter: HttpCallStarter,
    private readonly maxBodyBytes: number,
  ) {}

  /** Serves the request if its path is a SOAP endpoint's; false (nothing done) if it is not. */
  serve(exchange: Exchange, verb: string, segments: readonly string[], queryText: string): boolean {
    const dedicated = segments.length === 2 && segments[0] === 'soap' && segments[1] !== '';
    // A service of its own named `soap` keeps its JSON paths.
    if (dedicated ? this.provides('soap') : segments.length !== 1) return false;
    const query = new URLSearchParams(queryText);
    const name = dedicated ? segments[1]! : segments[0]!;
    if (!dedicated) {
      const soapLike = (verb === 'GET' && query.has('wsdl')) || (verb === 'POST' && soapVersionOf(exchange.req.headers['content-type']) !== undefined);
      if (name === '' || !soapLike || !this.provides(name)) return false;
    }
    const version = firstHeader(exchange.req, Header.version) ?? query.get('version') ?? undefined;
    const group = firstHeader(exchange.req, Header.group) ?? query.get('group') ?? undefined;
    const service = this.findService(name, version || undefined, group || undefined);
    if (verb === 'GET' && query.has('wsdl')) {
      if (service instanceof RpcError) exchange.fail(service);
      else exchange.send(200, new TextEncoder().encode(wsdlDocument(service[0]!.service, service, this.location(exchange, query))), 'text/xml; charset=utf-8');
      return true;
    }
    if (verb !== 'POST') {
      exchange.fail(new RpcError(Code.UNIMPLEMENTED, `${verb} of a SOAP endpoint: envelopes are POSTed, and the WSDL is at GET ?wsdl`), 405, undefined, { allow: 'GET, POST' });
      return true;
    }
    const soapVersion = soapVersionOf(exchange.req.headers['content-type']);
    if (soapVersion === undefined) {
      exchange.fail(new RpcError(Code.INVALID_ARGUMENT, `a SOAP request is text/xml (SOAP 1.1) or application/soap+xml (SOAP 1.2), not ${exchange.req.headers['content-type'] ?? 'untyped'}`), 415);
      return true;
    }
    const format = new SoapFormat(soapVersion);
    exchange.format = format;
    if (service instanceof RpcError) {
      exchange.fail(service);
      return true;
    }
    let pending: Exchange | undefined = exchange;
    readBodyThen(exchange.req, this.maxBodyBytes, true, (bytes) => {
      const exchange = pending!;
      pending = undefined;
      let call: { entry: MethodEntry; args: unknown[] };
      try {
        call = this.callOf(bytes, service, soapVersion);
      } catch (error) {
        exchange.fail(RpcError.from(error, Code.INVALID_ARGUMENT));
        return;
      }
      format.operation = { ns: targetNamespace(call.entry.service), entry: call.entry };
      format.requestBytes = bytes.byteLength;
      this.starter.serve(exchange, call.entry, () => call.args);
    }, (error) => pending?.fail(error));
    return true;
  }

  /** The method an envelope calls (its body's first element names it) and its arguments, one per child element in order. */
  private callOf(bytes: Uint8Array, methods: MethodEntry[], version: SoapVersion): { entry: MethodEntry; args: unknown[] } {
    const operation = bodyElementOf(parseXml(bytes), version);
    if (operation === undefined) throw new RpcError(Code.INVALID_ARGUMENT, 'the SOAP Body holds no operation element');
    const method = decodeName(operation.local);
    const entry = methods.find((each) => each.method === method);
    if (entry === undefined) throw new RpcError(Code.UNIMPLEMENTED, `operation ${JSON.stringify(method)} is not declared by service ${methods[0]!.service.id}`);
    if (entry.options.stream !== undefined) {
      throw new RpcError(Code.UNIMPLEMENTED, `${entry.service.id}.${entry.method} streams (stream: '${entry.options.stream}'), which SOAP does not carry; call it over http:// JSON, grpc:// or tcp://`);
    }
    const { params } = methodXmlTypes(entry);
    return { entry, args: operation.children.map((child, i) => decodeElement(child, params?.[i])) };
  }

  private provides(name: string): boolean {
    return this.table.serviceIds.some((id) => id.replace(/^[^/]*\//, '').replace(/:.*$/, '') === name);
  }

  /** The methods of the one service a request names: by name, version and group, or the only version served under that name. */
  private findService(name: string, version: string | undefined, group: string | undefined): MethodEntry[] | RpcError {
    let id = serviceId({ name, version, group });
    if (!version && !this.table.serviceIds.includes(id)) {
      const prefix = group ? `${group}/${name}:` : `${name}:`;
      const candidates = this.table.serviceIds.filter((candidate) => candidate.startsWith(prefix));
      if (candidates.length === 1) id = candidates[0]!;
    }
    const entries = [...this.table.entries()].filter((entry) => entry.service.id === id);
    if (entries.length > 0) return entries;
    const missing = this.table.lookup(id, '');
    return missing instanceof RpcError ? missing : new RpcError(Code.NOT_FOUND, `service ${JSON.stringify(id)} is not provided here`);
  }

  /** Where the WSDL says to send envelopes: this endpoint as the client reached it, with its version and group. */
  private location(exchange: Exchange, query: URLSearchParams): string {
    const { req } = exchange;
    const scheme = (req.socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http';
    const path = (req.url ?? '/').split('?')[0];
    const kept = new URLSearchParams();
    for (const key of ['version', 'group']) {
      const value = query.get(key);
      if (value !== null) kept.set(key, value);
    }
    const tail = kept.size > 0 ? `?${kept}` : '';
    return `${scheme}://${req.headers.host ?? 'localhost'}${path}${tail}`;
  }
}
