// The 30-second example from the README: one process, a server and a client on loopback.
import { createClient, createServer } from '../src/index.js';
import { CalculatorImpl, CalculatorService } from './calculator.js';

const server = createServer({ listen: ['tcp://127.0.0.1:0'] });
server.provide(CalculatorService, new CalculatorImpl());
const [address] = await server.listen();

const client = createClient({ url: address! });
const calc = client.proxy(CalculatorService);
console.log('1 + 2 =', await calc.add(1, 2));

await client.close();
await server.close();
