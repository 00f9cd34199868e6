// The provider process of the demo: serves the calculator and reports its address to the parent.
import { createServer } from '../../src/index.js';
import { CalculatorImpl, CalculatorService } from '../calculator.js';

const server = createServer({ listen: ['tcp://127.0.0.1:0'] });
server.provide(CalculatorService, new CalculatorImpl());
const [address] = await server.listen();
console.log(`[provider ${process.pid}] serving ${CalculatorService.id} at ${address}`);
process.send?.({ address });

process.on('SIGTERM', () => {
  console.log(`[provider ${process.pid}] SIGTERM: draining calls in flight, then exiting`);
  void server.close({ timeoutMs: 5000 }).then(() => process.exit(0));
});
