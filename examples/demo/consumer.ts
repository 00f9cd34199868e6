// The consumer process of the demo: typed calls, an application error and a timeout.
import { Code, RpcError, codeName, createClient } from '../../src/index.js';
import { CalculatorService } from '../calculator.js';

const address = process.argv[2];
if (address === undefined) throw new Error('usage: consumer.ts <provider address>');

const client = createClient({ url: address });
const calc = client.proxy(CalculatorService);
const say = (line: string) => console.log(`[consumer ${process.pid}] ${line}`);

say(`calc.add(1, 2) = ${await calc.add(1, 2)}`);
say(`calc.divide(10, 4) = ${await calc.divide(10, 4)}`);

try {
  await calc.divide(1, 0);
} catch (error) {
  const e = error as RpcError;
  say(`calc.divide(1, 0) failed as expected: ${codeName(e.code)} "${e.message}" details=${JSON.stringify(e.details)}`);
}

const started = Date.now();
try {
  await calc.slowSquare.with({ timeoutMs: 200 })(7, 1000);
} catch (error) {
  const e = error as RpcError;
  if (e.code !== Code.DEADLINE_EXCEEDED) throw error;
  say(`calc.slowSquare(7) with a 200 ms deadline: ${codeName(e.code)} after ${Date.now() - started} ms`);
}

say(`calc.slowSquare(7) with time to spare = ${await calc.slowSquare(7, 50)}`);
const sums = await Promise.all(Array.from({ length: 1000 }, (_, i) => calc.add(i, i)));
say(`1000 concurrent calls on one connection, all correct: ${sums.every((sum, i) => sum === 2 * i)}`);

await client.close();
