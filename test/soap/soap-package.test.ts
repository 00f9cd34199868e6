import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import * as soap from 'soap';
import { Code, createClient, createServer, defineService, RpcError } from '../../src/index.js';
import { registerTransport } from '../../src/transport/registry.js';
import { soapTransport } from '../../src/transport/soap/factory.js';
import { hasCode } from '../support/assertions.js';
import { onCleanup } from '../support/calculator.js';
import { ShopService, shop } from './shop.js';

registerTransport('soap', soapTransport);

async function startShop(t: TestContext): Promise<string> {
  const server = createServer({ registry: false, listen: ['http://127.0.0.1:0'] });
  server.provide(ShopService, shop);
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const [address] = await server.listen();
  return address!;
}

test('the soap package builds a client from the ?wsdl of a Switchyard service and calls it with typed values', async (t) => {
  const address = await startShop(t);
  const client = await soap.createClientAsync(`${address}/soap/demo.Shop?wsdl`);
  const [total] = await client.totalAsync({ arg0: { item: [{ name: 'a', price: 2.5, qty: 2 }, { name: 'b', price: 1, qty: 3 }] }, arg1: 'HALF' });
  assert.deepEqual(total, { return: { total: 4, count: 2, at: new Date('2024-02-29T12:00:00.000Z') } });
  const [checked] = await client.checkAsync({ arg0: '12345678901234567890', arg1: true });
  assert.deepEqual(checked, { return: 'bigint 12345678901234567890, boolean true' });
  const [nothing] = await client.forgetAsync({ arg0: 'x' });
  assert.equal(nothing, null);
});

test('a Switchyard fault reaches the soap package client with its code, message and details', async (t) => {
  const address = await startShop(t);
  const client = await soap.createClientAsync(`${address}/soap/demo.Shop?wsdl`);
  const failure = await client.reserveAsync({ arg0: 'A1', arg1: 5 }).then(() => undefined, (error: unknown) => error as { root?: { Envelope?: { Body?: { Fault?: Record<string, unknown> } } }; response?: { status: number } });
  const fault = failure?.root?.Envelope?.Body?.Fault;
  assert.equal(failure?.response?.status, 500);
  assert.equal(fault?.faultcode, 'soap:Client');
  assert.equal(fault?.faultstring, 'only 2 of A1 left');
  const error = (fault?.detail as { error: { code: string; message: string; details: { sku: string } } }).error;
  assert.equal(error.code, 'FAILED_PRECONDITION');
  assert.equal(error.message, 'only 2 of A1 left');
  assert.equal(error.details.sku, 'A1');
});

test('the soap package client speaks SOAP 1.2 to a Switchyard service too', async (t) => {
  const address = await startShop(t);
  const client = await soap.createClientAsync(`${address}/soap/demo.Shop?wsdl`, { forceSoap12Headers: true });
  const [checked] = await client.checkAsync({ arg0: '7', arg1: false });
  assert.deepEqual(checked, { return: 'bigint 7, boolean false' });
  const failure: unknown = await client.reserveAsync({ arg0: 'B2', arg1: 9 }).then(() => undefined, (error: unknown) => error);
  const fault = (failure as { root: { Envelope: { Body: { Fault: { Code: { Value: string; Subcode: { Value: string } } } } } } }).root.Envelope.Body.Fault;
  assert.equal(fault.Code.Value, 'soap:Sender');
  assert.equal(fault.Code.Subcode.Value, 'sy:FAILED_PRECONDITION');
});

test('a Switchyard client reaches a Switchyard service over soap:// by its WSDL, every value kind intact', async (t) => {
  const address = await startShop(t);
  const client = createClient({ url: `${address.replace('http://', 'soap://')}/soap/demo.Shop` });
  onCleanup(t, () => client.close({ timeoutMs: 2000 }));
  const proxy = client.proxy(ShopService);
  assert.deepEqual(await proxy.total([{ name: 'a', price: 1.5, qty: 2 }]), { total: 3, count: 1, at: new Date('2024-02-29T12:00:00.000Z') });
  assert.equal(await proxy.check(2n ** 70n, false), `bigint ${2n ** 70n}, boolean false`);
  const value = { n: NaN, inf: -Infinity, zero: -0, big: -(2n ** 65n), when: new Date(1), bytes: Buffer.from([0, 255]), list: [1, 'two', null, undefined], nested: { map: new Map([[1, 'one']]), set: new Set(['x']) }, text: ' spaced <&> \r\n ' };
  assert.deepEqual(await proxy.echo(value), value);
  assert.equal(await proxy.forget('x'), undefined);
  await assert.rejects(proxy.reserve('A1', 5), (error: unknown) => {
    assert.ok(error instanceof RpcError);
    assert.equal(error.code, Code.FAILED_PRECONDITION);
    assert.deepEqual(error.details, { sku: 'A1', left: 2 });
    return true;
  });
});

test('over SOAP 1.2 (soap=1.2), a Switchyard client gets results and faults the same way', async (t) => {
  const address = await startShop(t);
  const client = createClient({ url: `${address.replace('http://', 'soap://')}/soap/demo.Shop?soap=1.2` });
  onCleanup(t, () => client.close({ timeoutMs: 2000 }));
  const proxy = client.proxy(ShopService);
  assert.equal(await proxy.check(5n, true), 'bigint 5, boolean true');
  await assert.rejects(proxy.reserve('Z', 3), hasCode(Code.FAILED_PRECONDITION, /only 2 of Z left/));
});

// A service written with the soap package, as another team would: its own WSDL, its own faults.
const WEATHER_WSDL = `<?xml version="1.0" encoding="UTF-8"?>
<definitions name="Weather" targetNamespace="http://example.com/weather" xmlns="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:tns="http://example.com/weather" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <types>
    <xsd:schema targetNamespace="http://example.com/weather" elementFormDefault="qualified">
      <xsd:element name="Forecast"><xsd:complexType><xsd:sequence>
        <xsd:element name="city" type="xsd:string"/><xsd:element name="days" type="xsd:int"/>
      </xsd:sequence></xsd:complexType></xsd:element>
      <xsd:element name="ForecastResponse"><xsd:complexType><xsd:sequence>
        <xsd:element name="day" type="tns:Day" minOccurs="0" maxOccurs="unbounded"/>
      </xsd:sequence></xsd:complexType></xsd:element>
      <xsd:complexType name="Day"><xsd:sequence>
        <xsd:element name="date" type="xsd:dateTime"/><xsd:element name="high" type="xsd:double"/><xsd:element name="sunny" type="xsd:boolean"/>
      </xsd:sequence></xsd:complexType>
    </xsd:schema>
  </types>
  <message name="ForecastInput"><part name="parameters" element="tns:Forecast"/></message>
  <message name="ForecastOutput"><part name="parameters" element="tns:ForecastResponse"/></message>
  <portType name="WeatherPortType"><operation name="Forecast"><input message="tns:ForecastInput"/><output message="tns:ForecastOutput"/></operation></portType>
  <binding name="WeatherBinding" type="tns:WeatherPortType">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <operation name="Forecast"><soap:operation soapAction="http://example.com/weather/Forecast"/><input><soap:body use="literal"/></input><output><soap:body use="literal"/></output></operation>
  </binding>
  <service name="WeatherService"><port name="WeatherPort" binding="tns:WeatherBinding"><soap:address location="http://127.0.0.1/weather"/></port></service>
</definitions>`;

interface Weather {
  Forecast(city: string, days: number): Promise<Array<{ date: Date; high: number; sunny: boolean }>>;
}
const WeatherService = defineService<Weather>('example.Weather', { methods: { Forecast: {} } });

async function startWeather(t: TestContext, seen: Array<{ args: unknown; action: unknown }>): Promise<string> {
  const http: HttpServer = createHttpServer();
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  onCleanup(t, () => new Promise<void>((resolve) => {
    http.closeAllConnections();
    http.close(() => resolve());
  }));
  const services = {
    WeatherService: {
      WeatherPort: {
        Forecast(args: { city: string; days: number }, _callback: unknown, headers: unknown, req: { headers: Record<string, unknown> }) {
          seen.push({ args, action: req.headers.soapaction });
          if (args.city === 'Atlantis') throw { Fault: { faultcode: 'soap:Client', faultstring: 'no such city', detail: { city: args.city } } };
          return { day: Array.from({ length: args.days }, (_, i) => ({ date: new Date(Date.UTC(2024, 0, i + 1)).toISOString(), high: 20.5 + i, sunny: i % 2 === 0 })) };
        },
      },
    },
  };
  soap.listen(http, '/weather', services, WEATHER_WSDL);
  return `127.0.0.1:${(http.address() as AddressInfo).port}`;
}

test('a Switchyard client calls a service of the soap package through its WSDL, typed by its schema', async (t) => {
  const seen: Array<{ args: unknown; action: unknown }> = [];
  const host = await startWeather(t, seen);
  const client = createClient({ url: `soap://${host}/weather` });
  onCleanup(t, () => client.close({ timeoutMs: 2000 }));
  const weather = client.proxy(WeatherService);
  const days = await weather.Forecast('Lisbon', 2);
  assert.deepEqual(days, [
    { date: new Date('2024-01-01T00:00:00.000Z'), high: 20.5, sunny: true },
    { date: new Date('2024-01-02T00:00:00.000Z'), high: 21.5, sunny: false },
  ]);
  assert.deepEqual(seen[0], { args: { city: 'Lisbon', days: 2 }, action: '"http://example.com/weather/Forecast"' });
});

test('a fault of a soap package service is an RpcError with its faultcode and detail', async (t) => {
  const host = await startWeather(t, []);
  const client = createClient({ url: `soap://${host}/weather` });
  onCleanup(t, () => client.close({ timeoutMs: 2000 }));
  await assert.rejects(client.proxy(WeatherService).Forecast('Atlantis', 1), (error: unknown) => {
    assert.ok(error instanceof RpcError);
    assert.equal(error.code, Code.INVALID_ARGUMENT);
    assert.match(error.message, /no such city/);
    assert.deepEqual(error.details, { faultcode: 'soap:Client', detail: { city: 'Atlantis' } });
    return true;
  });
});

test('a soap:// call to an address nothing listens on fails UNAVAILABLE, marked as never sent', async (t) => {
  const idle = createHttpServer();
  await new Promise<void>((resolve) => idle.listen(0, '127.0.0.1', resolve));
  const port = (idle.address() as AddressInfo).port;
  await new Promise<void>((resolve) => idle.close(() => resolve()));
  const client = createClient({ url: `soap://127.0.0.1:${port}/weather`, retries: 0 });
  onCleanup(t, () => client.close({ timeoutMs: 2000 }));
  await assert.rejects(client.proxy(WeatherService).Forecast('Lisbon', 1), (error: unknown) => error instanceof RpcError && error.code === Code.UNAVAILABLE && error.unprocessed);
});
