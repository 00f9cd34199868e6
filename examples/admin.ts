/**
 * A server with an admin listener: makes a few calls, then reads what an operator would read,
 * `/health`, `/status` and the call counts of `/metrics`, takes the server offline and back.
 *
 * npx tsx examples/admin.ts
 */
import { createClient, createServer, defineService } from '../src/index.js';

interface Calculator {
  add(a: number, b: number): Promise<number>;
}

const CalculatorService = defineService<Calculator>('demo.Calculator', { version: '1.0.0', methods: { add: {} } });

const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: false, admin: 'http://127.0.0.1:0' });
server.provide(CalculatorService, { add: async (a, b) => a + b });
const [address] = await server.listen();
const admin = server.adminAddress!;
console.log(`serving on ${address}, admin on ${admin}`);

const client = createClient({ url: address! });
const calc = client.proxy(CalculatorService);
for (let i = 0; i < 3; i++) await calc.add(i, i);

const get = async (path: string, init?: RequestInit) => {
  const response = await fetch(`${admin}${path}`, init);
  return { status: response.status, body: await response.text() };
};

console.log('GET /health  ', (await get('/health')).body);
const status = JSON.parse((await get('/status')).body) as { services: Array<{ id: string; methods: Array<{ name: string; calls: number }> }> };
for (const service of status.services) for (const method of service.methods) console.log(`GET /status   ${service.id}.${method.name}: ${method.calls} calls`);
const calls = (await get('/metrics')).body.split('\n').filter((line) => line.startsWith('switchyard_server_calls_total'));
console.log('GET /metrics ', calls.join('\n              '));

await get('/offline', { method: 'POST' });
console.log('after POST /offline, GET /health:', (await get('/health')).status);
await get('/online', { method: 'POST' });
console.log('after POST /online,  GET /health:', (await get('/health')).status);

await client.close();
await server.close();
