// A provider process of the demo: serves the calculator, announces it in the registry it is given,
// and labels every response with its name so the consumer can show who served each call.
import { createServer, type Interceptor } from '../../src/index.js';
import { CalculatorImpl, CalculatorService } from '../calculator.js';

const [name, registry] = process.argv.slice(2);
if (name === undefined || registry === undefined) throw new Error('usage: provider.ts <name> <registry url>');
const say = (line: string) => console.log(`[provider ${name} ${process.pid}] ${line}`);

// Which provider served a call travels back as response metadata, so the calculator stays a calculator.
const labelResponses: Interceptor = (next) => (call) => {
  call.responseMetadata.set('x-served-by', name);
  return next(call);
};

const server = createServer({
  listen: ['tcp://127.0.0.1:0'],
  registry,
  // Warm-up ramps a new provider's share of traffic up over `warmupMs` (30 s by default) so a cold
  // process is not flooded. The three demo providers start together and the demo lasts seconds, so
  // warm-up would only blur the spread it shows: it is off here. Keep it on in production.
  warmupMs: 0,
  interceptors: [labelResponses],
});
server.provide(CalculatorService, new CalculatorImpl());
// listen() resolves once the service is registered: consumers can find it from now on.
const [address] = await server.listen();
say(`serving ${CalculatorService.id} at ${address}; registered`);
process.send?.({ name, address });

let stopping = false;
function stop(why: string): void {
  if (stopping) return;
  stopping = true;
  say(`${why}: leaving the registry, finishing calls in flight, then exiting`);
  void server.close({ timeoutMs: 5000 }).then(() => {
    say('closed');
    process.exit(0);
  });
}
process.on('SIGTERM', () => stop('SIGTERM'));
// If the demo itself dies, do not linger.
process.on('disconnect', () => stop('demo went away'));
