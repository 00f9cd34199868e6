import assert from 'node:assert/strict';
import test, { type TestContext } from 'node:test';
import { Code, RpcError, createClient, createServer, defineService } from '../src/index.js';

interface Jobs {
  run(steps: number, onProgress: (step: number, of: number) => Promise<string>): Promise<string[]>;
  keepForLater(onEvent: (name: string) => Promise<void>): Promise<void>;
  fireKept(): Promise<string>;
  askTwice(a: (x: number) => Promise<number>, b: (x: number) => Promise<number>): Promise<number>;
}
const JobsService = defineService<Jobs>('test.callbacks.Jobs', {
  methods: { run: {}, keepForLater: {}, fireKept: {}, askTwice: {} },
});

async function start(t: TestContext) {
  let kept: ((name: string) => Promise<void>) | undefined;
  const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: false });
  server.provide(JobsService, {
    async run(steps, onProgress) {
      const answers: string[] = [];
      for (let step = 1; step <= steps; step++) answers.push(await onProgress(step, steps));
      return answers;
    },
    async keepForLater(onEvent) {
      kept = onEvent;
    },
    async fireKept() {
      try {
        await kept!('late');
        return 'delivered';
      } catch (error) {
        return `${(error as RpcError).code}: ${(error as RpcError).message}`;
      }
    },
    async askTwice(a, b) {
      return (await a(2)) + (await b(3));
    },
  });
  const [address] = await server.listen();
  const client = createClient({ url: address! });
  t.after(async () => {
    await client.close();
    await server.close({ timeoutMs: 1000 });
  });
  return client.proxy(JobsService);
}

test('the provider calls a function argument back over the same connection and gets its answers', async (t) => {
  const jobs = await start(t);
  const seen: string[] = [];
  const answers = await jobs.run(3, async (step, of) => {
    seen.push(`${step}/${of}`);
    return `ack ${step}`;
  });
  assert.deepEqual(seen, ['1/3', '2/3', '3/3']);
  assert.deepEqual(answers, ['ack 1', 'ack 2', 'ack 3']);
});

test('several callback arguments of one call stay apart', async (t) => {
  const jobs = await start(t);
  assert.equal(await jobs.askTwice(async (x) => x * 10, async (x) => x * 100), 320);
});

test("an error thrown by the caller's callback reaches the provider as an RpcError", async (t) => {
  const jobs = await start(t);
  await assert.rejects(
    jobs.run(2, async () => {
      throw new RpcError(Code.PERMISSION_DENIED, 'not now', { details: { why: 'busy' } });
    }),
    (error: unknown) => error instanceof RpcError && error.code === Code.PERMISSION_DENIED && error.details.why === 'busy',
  );
});

test('a callback kept after its call has ended fails with FAILED_PRECONDITION instead of reaching the caller', async (t) => {
  const jobs = await start(t);
  let called = false;
  await jobs.keepForLater(async () => {
    called = true;
  });
  assert.match(await jobs.fireKept(), /^9: the call this callback belongs to has ended/);
  assert.equal(called, false);
});

test('a one-way call cannot carry callbacks', async (t) => {
  const jobs = await start(t);
  await assert.rejects(jobs.run.with({ oneWay: true })(1, async () => 'x'), (error: unknown) => error instanceof RpcError && error.code === Code.INVALID_ARGUMENT);
});
