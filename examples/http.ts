// Switchyard over HTTP/1.1 + JSON: the service docs/http.md calls with curl.
//
//   npx tsx examples/http.ts            # serves, calls itself through createClient({ url: 'http://…' }), stops
//   npx tsx examples/http.ts --serve    # serves on http://127.0.0.1:8080 until Ctrl-C, for curl
import { fileURLToPath } from 'node:url';
import { Code, RpcError, createClient, createServer, currentCall, defineService, type Server } from '../src/index.js';

export interface Calculator {
  add(a: number, b: number): Promise<number>;
  divide(a: number, b: number): Promise<number>;
  square(x: number): Promise<number>;
  sum(numbers: number[]): Promise<number>;
  describe(shape: { kind: string; size: number }): Promise<string>;
  whoami(): Promise<string>;
  slow(ms: number): Promise<string>;
  countdown(from: number): AsyncIterable<number>;
}

export const CalculatorService = defineService<Calculator>('demo.Calculator', {
  version: '1.0.0',
  methods: {
    add: { http: { method: 'GET', path: '/calculator/add', params: ['a', 'b'] } },
    divide: {},
    square: { http: { method: 'GET', path: '/calculator/square/{x}', params: ['x'] } },
    sum: {},
    describe: {},
    whoami: {},
    slow: {},
    countdown: { stream: 'server' },
  },
});

export const calculator: Calculator = {
  async add(a, b) {
    return a + b;
  },
  async divide(a, b) {
    if (b === 0) throw new RpcError(Code.INVALID_ARGUMENT, 'cannot divide by zero', { details: { field: 'b' } });
    return a / b;
  },
  async square(x) {
    return x * x;
  },
  async sum(numbers) {
    return numbers.reduce((total, n) => total + n, 0);
  },
  async describe(shape) {
    return `a ${shape.kind} of size ${shape.size}`;
  },
  async whoami() {
    const call = currentCall();
    call.responseMetadata.set('x-served-by', 'example');
    return String(call.metadata.get('x-user') ?? 'nobody');
  },
  async slow(ms) {
    const { signal } = currentCall();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, ms);
      signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(signal.reason);
      }, { once: true });
    });
    return `slept ${ms} ms`;
  },
  async *countdown(from) {
    for (let n = from; n > 0; n--) yield n;
  },
};

/** The example server: the Calculator over HTTP, browsers of http://localhost:3000 allowed. */
export async function startExampleServer(listen = 'http://127.0.0.1:8080?cors=http://localhost:3000'): Promise<{ server: Server; address: string }> {
  const server = createServer({ listen: [listen], registry: false });
  server.provide(CalculatorService, calculator);
  const [address] = await server.listen();
  return { server, address: address! };
}

async function main(): Promise<void> {
  const serve = process.argv.includes('--serve');
  const { server, address } = await startExampleServer(serve ? undefined : 'http://127.0.0.1:0');
  console.log(`serving on ${address} (OpenAPI at ${address}/openapi.json)`);
  if (serve) {
    server.closeOnSignals();
    return;
  }
  const client = createClient({ url: address });
  const calc = client.proxy(CalculatorService);
  console.log('add(1, 2) =', await calc.add(1, 2));
  console.log('describe =', await calc.describe({ kind: 'square', size: 3 }));
  console.log('whoami =', await calc.whoami.with({ metadata: { 'x-user': 'ann' } })());
  try {
    await calc.divide(1, 0);
  } catch (error) {
    console.log('divide(1, 0) failed:', String(error));
  }
  try {
    await calc.slow.with({ timeoutMs: 100 })(1000);
  } catch (error) {
    console.log('slow(1000) with a 100 ms deadline:', String(error));
  }
  const counted: number[] = [];
  for await (const n of calc.countdown(3)) counted.push(n);
  console.log('countdown(3) =', counted.join(', '));
  await client.close();
  await server.close();
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) await main();
