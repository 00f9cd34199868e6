// A Calculator server in its own process for the flood test: `flood-server.ts <max>`, started with
// `--expose-gc` and an IPC channel. `slow` calls are limited to <max> at once. It reports over IPC:
// `ready` with its address; on `{ type: 'heap' }` the heap in use after a full collection; on
// `{ type: 'stats' }` what the limiter and the implementation saw, and the highest heap sampled
// (every 5 ms, without collecting) since the last `heap`. It leaves on `{ type: 'exit' }` or when
// the parent goes away.
import { concurrencyLimit, createServer, type Interceptor } from '../../src/index.js';
import { CalculatorService, calculatorImpl, newLog } from '../support/calculator.js';

const max = Number(process.argv[2]);
const gc = (globalThis as { gc?: () => void }).gc;
if (!(max >= 0) || gc === undefined || process.send === undefined) {
  process.stderr.write('usage: node --expose-gc --import tsx flood-server.ts <max>, forked with IPC\n');
  process.exit(2);
}

const log = newLog();
let executing = 0;
let peakExecuting = 0;
// Inside the limit: counts the calls that really run.
const executions: Interceptor = (next) => async (call) => {
  executing++;
  peakExecuting = Math.max(peakExecuting, executing);
  try {
    return await next(call);
  } finally {
    executing--;
  }
};
const limit = concurrencyLimit({ services: { [CalculatorService.id]: { methods: { slow: { max } } } } });
const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: false, interceptors: [limit, executions] });
server.provide(CalculatorService, calculatorImpl(log));
const [address] = await server.listen();

let peakHeap = 0;
const sampler = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 5);

process.on('message', (message: { type: string }) => {
  if (message.type === 'heap') {
    gc();
    const heapUsed = process.memoryUsage().heapUsed;
    peakHeap = heapUsed;
    process.send!({ type: 'heap', heapUsed });
  } else if (message.type === 'stats') {
    process.send!({ type: 'stats', limit: limit.stats(), slowRuns: log.slow.length, peakExecuting, peakHeap });
  } else if (message.type === 'exit') {
    void leave();
  }
});
process.on('disconnect', () => void leave());

async function leave(): Promise<void> {
  clearInterval(sampler);
  await server.close({ timeoutMs: 1000 });
  process.exit(0);
}

process.send({ type: 'ready', address });
