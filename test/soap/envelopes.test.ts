import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { createServer, defineService } from '../../src/index.js';
import { decodeElement } from '../../src/transport/http/xml/decode.js';
import { parseXml, type XmlElement } from '../../src/transport/http/xml/tree.js';
import { onCleanup } from '../support/calculator.js';
import { rawRequest, type RawResponse } from '../support/http.js';
import { ShopService, shop } from './shop.js';

const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/';
const SOAP12 = 'http://www.w3.org/2003/05/soap-envelope';
const TYPES = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"';

interface Streams {
  ticks(n: number): AsyncIterable<number>;
  ping(n: number): Promise<void>;
}
const StreamsService = defineService<Streams>('test.Streams', { methods: { ticks: { stream: 'server' }, ping: { oneWay: true } } });

async function start(t: TestContext): Promise<{ address: string; pinged: number[] }> {
  const pinged: number[] = [];
  const server = createServer({ registry: false, listen: ['http://127.0.0.1:0'] });
  server.provide(ShopService, shop);
  server.provide(StreamsService, {
    async *ticks(n) {
      yield n;
    },
    async ping(n) {
      pinged.push(n);
    },
  });
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const [address] = await server.listen();
  return { address: address!, pinged };
}

function envelope(ns: string, body: string, header = ''): string {
  return `<?xml version="1.0"?><env:Envelope xmlns:env="${ns}" ${TYPES}>${header}<env:Body>${body}</env:Body></env:Envelope>`;
}

function post(address: string, path: string, body: string, headers: Record<string, string>): Promise<RawResponse> {
  return rawRequest(address, 'POST', path, { headers, body });
}

const soap11 = { 'content-type': 'text/xml; charset=utf-8', soapaction: '"urn:switchyard:demo.Shop#reserve"' };
const soap12 = { 'content-type': 'application/soap+xml; charset=utf-8; action="urn:switchyard:demo.Shop#reserve"' };

function bodyOf(response: RawResponse, ns: string): XmlElement {
  const root = parseXml(new TextEncoder().encode(response.text));
  assert.equal(root.local, 'Envelope');
  assert.equal(root.ns, ns);
  const body = root.children.find((child) => child.local === 'Body')!;
  return body.children[0]!;
}

const child = (element: XmlElement | undefined, local: string) => element?.children.find((each) => each.local === local);

test('a SOAP 1.1 envelope calls the method its body element names, with arg0..argN, and gets <methodResponse><return>', async (t) => {
  const { address } = await start(t);
  const response = await post(address, '/soap/demo.Shop', envelope(SOAP11, '<s:reserve xmlns:s="urn:switchyard:demo.Shop"><arg0>A1</arg0><arg1>2</arg1></s:reserve>'), soap11);
  assert.equal(response.status, 200, response.text);
  assert.equal(response.headers['content-type'], 'text/xml; charset=utf-8');
  const answer = bodyOf(response, SOAP11);
  assert.equal(answer.local, 'reserveResponse');
  assert.equal(answer.ns, 'urn:switchyard:demo.Shop');
  assert.equal(decodeElement(child(answer, 'return')!), '2');
  // The schema declares an integer, so the value goes without xsi:type, as the WSDL says.
  assert.match(response.text, /<return>2<\/return>/);
});

test('a SOAP 1.2 envelope works the same at the service\'s own base path, answered as application/soap+xml', async (t) => {
  const { address } = await start(t);
  const response = await post(address, '/demo.Shop', envelope(SOAP12, '<reserve><arg0>A1</arg0><arg1>1</arg1></reserve>'), soap12);
  assert.equal(response.status, 200, response.text);
  assert.equal(response.headers['content-type'], 'application/soap+xml; charset=utf-8');
  assert.equal(child(bodyOf(response, SOAP12), 'return')?.text, '1');
});

test('SOAP 1.1 faults carry faultcode, faultstring and the Switchyard error in detail, with status 500', async (t) => {
  const { address } = await start(t);
  const response = await post(address, '/soap/demo.Shop', envelope(SOAP11, '<reserve><arg0>A1</arg0><arg1>5</arg1></reserve>'), soap11);
  assert.equal(response.status, 500);
  const fault = bodyOf(response, SOAP11);
  assert.equal(fault.local, 'Fault');
  assert.equal(child(fault, 'faultcode')?.text, 'soap:Client');
  assert.equal(child(fault, 'faultstring')?.text, 'only 2 of A1 left');
  const error = child(child(fault, 'detail'), 'error')!;
  assert.equal(error.ns, 'urn:switchyard');
  assert.equal(child(error, 'code')?.text, 'FAILED_PRECONDITION');
  assert.deepEqual(decodeElement(child(error, 'details')!), { sku: 'A1', left: 2 });
});

test('SOAP 1.2 faults carry Code/Subcode (sy:<code>), Reason and Detail; a Sender fault is 400, a Receiver fault 500', async (t) => {
  const { address } = await start(t);
  const sender = await post(address, '/soap/demo.Shop', envelope(SOAP12, '<reserve><arg0>A1</arg0><arg1>5</arg1></reserve>'), soap12);
  assert.equal(sender.status, 400);
  const fault = bodyOf(sender, SOAP12);
  assert.equal(child(child(fault, 'Code'), 'Value')?.text, 'soap:Sender');
  assert.equal(child(child(child(fault, 'Code'), 'Subcode'), 'Value')?.text, 'sy:FAILED_PRECONDITION');
  assert.equal(child(child(fault, 'Reason'), 'Text')?.text, 'only 2 of A1 left');
  assert.equal(child(child(child(fault, 'Detail'), 'error'), 'code')?.text, 'FAILED_PRECONDITION');
  const late = await post(address, '/soap/demo.Shop', envelope(SOAP12, '<reserve><arg0>A1</arg0><arg1>1</arg1></reserve>'), { ...soap12, 'x-switchyard-timeout-ms': '0' });
  assert.equal(late.status, 500);
  assert.equal(child(child(bodyOf(late, SOAP12), 'Code'), 'Value')?.text, 'soap:Receiver');
});

test('what the envelope gets wrong is a fault too: bad values, unknown operations, streams, the other version, mustUnderstand headers, malformed XML', async (t) => {
  const { address } = await start(t);
  const faultOf = async (path: string, body: string, headers = soap11) => {
    const response = await post(address, path, body, headers);
    const fault = bodyOf(response, headers === soap11 ? SOAP11 : SOAP12);
    assert.equal(fault.local, 'Fault', response.text);
    return { status: response.status, code: child(fault, 'faultcode')?.text, text: response.text };
  };
  const badValue = await faultOf('/soap/demo.Shop', envelope(SOAP11, '<reserve><arg0>A1</arg0><arg1>lots</arg1></reserve>'));
  assert.equal(badValue.code, 'soap:Client');
  assert.match(badValue.text, /<code>INVALID_ARGUMENT<\/code>/);
  const unknown = await faultOf('/soap/demo.Shop', envelope(SOAP11, '<steal/>'));
  assert.match(unknown.text, /<code>UNIMPLEMENTED<\/code><name>RpcError<\/name><message>operation "steal" is not declared by service demo.Shop:1.0.0</);
  const stream = await faultOf('/soap/test.Streams', envelope(SOAP11, '<ticks><arg0 xsi:type="xsd:double">1</arg0></ticks>'));
  assert.match(stream.text, /which SOAP does not carry/);
  const version = await faultOf('/soap/demo.Shop', envelope(SOAP12, '<reserve/>'));
  assert.equal(version.code, 'soap:VersionMismatch');
  const header = await faultOf('/soap/demo.Shop', envelope(SOAP11, '<reserve/>', `<env:Header><t:tx xmlns:t="urn:tx" env:mustUnderstand="1">1</t:tx></env:Header>`));
  assert.equal(header.code, 'soap:MustUnderstand');
  const malformed = await faultOf('/soap/demo.Shop', '<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body>');
  assert.match(malformed.text, /malformed XML/);
  const service = await faultOf('/soap/demo.Nowhere', envelope(SOAP11, '<reserve/>'));
  assert.match(service.text, /<code>NOT_FOUND<\/code>/);
  const bomb = await faultOf('/soap/demo.Shop', `<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>${envelope(SOAP11, '<reserve><arg0>&b;</arg0></reserve>')}`);
  assert.match(bomb.text, /DTD\) is not accepted/);
});

test('a one-way method answers 202 at once over SOAP, and runs', async (t) => {
  const { address, pinged } = await start(t);
  const response = await post(address, '/soap/test.Streams', envelope(SOAP11, '<ping><arg0 xsi:type="xsd:double">4</arg0></ping>'), soap11);
  assert.equal(response.status, 202);
  for (let i = 0; i < 50 && pinged.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(pinged, [4]);
});

test('GET ?wsdl describes the service: typed elements, both bindings, faults, and the address the client used', async (t) => {
  const { address } = await start(t);
  const response = await rawRequest(address, 'GET', '/soap/demo.Shop?wsdl&version=1.0.0');
  assert.equal(response.status, 200);
  assert.equal(response.headers['content-type'], 'text/xml; charset=utf-8');
  const wsdl = parseXml(new TextEncoder().encode(response.text));
  assert.equal(wsdl.local, 'definitions');
  assert.equal(wsdl.attributes.get('targetNamespace'), 'urn:switchyard:demo.Shop');
  assert.match(response.text, /<xsd:element name="reserve"><xsd:complexType><xsd:sequence><xsd:element name="arg0" type="xsd:string"\/><xsd:element name="arg1" type="xsd:long"\/>/);
  assert.match(response.text, /<xsd:element name="check"><xsd:complexType><xsd:sequence><xsd:element name="arg0" type="xsd:integer"\/><xsd:element name="arg1" type="xsd:boolean"\/>/);
  assert.match(response.text, /<xsd:element name="echo"><xsd:complexType><xsd:sequence><xsd:any minOccurs="0" maxOccurs="unbounded" processContents="lax"\/>/);
  assert.match(response.text, /<xsd:element name="echoResponse"><xsd:complexType><xsd:sequence><xsd:element name="return" minOccurs="0" type="xsd:anyType"\/>/);
  assert.match(response.text, /<soap:operation soapAction="urn:switchyard:demo.Shop#reserve" style="document"\/>/);
  assert.match(response.text, /<soap12:binding style="document"/);
  assert.match(response.text, /<wsdl:fault name="error" message="tns:error"\/>/);
  assert.ok(response.text.includes(`<soap:address location="${address}/soap/demo.Shop?version=1.0.0"/>`), response.text.slice(-400));
  const streams = await rawRequest(address, 'GET', '/soap/test.Streams?wsdl');
  assert.doesNotMatch(streams.text, /name="ticks"/);
  assert.match(streams.text, /<wsdl:operation name="ping"><wsdl:input message="tns:pingRequest"\/><\/wsdl:operation>/);
});

test('a text/xml POST to a path that is not a service, and paths of other shapes, are still the JSON routes\' to answer', async (t) => {
  const { address } = await start(t);
  const response = await post(address, '/nothing-here', envelope(SOAP11, '<x/>'), soap11);
  assert.equal(response.status, 404);
  assert.equal((response.json as { code: string }).code, 'NOT_FOUND');
  const other = await post(address, '/soap/demo.Shop/reserve', '<args><a>A1</a><b>1</b></args>', { 'content-type': 'text/xml' });
  assert.equal(other.status, 404);
});
