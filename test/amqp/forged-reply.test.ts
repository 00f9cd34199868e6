import assert from 'node:assert/strict';
import { test } from 'node:test';
import amqplib from 'amqplib';
import { createClient, createServer, type Logger } from '../../src/index.js';
import { onCleanup, waitUntil } from '../support/calculator.js';
import { BROKER, brokerScope } from '../support/rabbitmq.js';
import { JobsService, type Jobs, type RunCounts } from './fixtures/jobs.js';

const PREFIX = 'amq.rabbitmq.reply-to.';
const KEY = Buffer.alloc(16, 7).toString('base64');

/** An Erlang pid in the external term format RabbitMQ encodes in direct reply-to names, on node `node`. */
function pidTerm(node: string): string {
  const name = Buffer.from(node, 'latin1');
  const head = Buffer.from([131, 88, 118, name.length >> 8, name.length & 0xff]);
  return Buffer.concat([head, name, Buffer.alloc(12, 1)]).toString('base64');
}

/**
 * Reply addresses an attacker can forge. RabbitMQ 3.10 closes the whole publishing connection
 * (541 INTERNAL_ERROR) for the last four; the last two, well-formed on an unknown node, look
 * exactly like the names the broker issues, so no check can refuse them before the broker has.
 */
const forged = [
  `${PREFIX}garbage`,
  `${PREFIX}garbage.more`,
  `${PREFIX}${Buffer.from([131, 97, 5]).toString('base64')}.${KEY}`,
  `${PREFIX}${pidTerm('reply@1')}.${KEY}`,
  `${PREFIX}${pidTerm('rabbit@nowhere')}.${KEY}`,
];

/** Collects, from the server's log, the broker connections it lost and the reply addresses it refused. */
function watchLog(): { logger: Logger; lost: string[]; refused: Set<string> } {
  const lost: string[] = [];
  const refused = new Set<string>();
  const noop = (): void => undefined;
  return {
    lost,
    refused,
    logger: {
      debug: noop,
      info: noop,
      error: noop,
      warn(fields, message) {
        const { connection, replyTo } = fields as { connection?: unknown; replyTo?: unknown };
        if (message === 'broker connection lost') lost.push(String(connection));
        if (typeof replyTo === 'string' && message?.startsWith('the broker closed the reply connection')) refused.add(replyTo);
      },
    },
  };
}

/**
 * Counts runs of `charge`, which answers once `gate.open()` is called: forged requests (ids `x…`)
 * first, honest ones (`h…`) a moment later, so that honest replies follow forged ones closely.
 */
function gatedJobs(runs: RunCounts) {
  let open!: () => void;
  let gate = new Promise<void>((resolve) => (open = resolve));
  const jobs: Jobs = {
    async charge(id) {
      runs.set(`charge ${id}`, (runs.get(`charge ${id}`) ?? 0) + 1);
      await gate;
      if (id.startsWith('h')) await new Promise((resolve) => setImmediate(resolve));
      return id;
    },
    async refresh(id) {
      return id;
    },
  };
  return {
    jobs,
    release(): void {
      open();
      gate = new Promise<void>((resolve) => (open = resolve));
    },
  };
}

test('requests with forged reply addresses cost no honest call a second run, and every honest call is answered', async (t) => {
  const scope = (await brokerScope(t)).uses(JobsService.id);
  const runs: RunCounts = new Map();
  const { logger, lost, refused } = watchLog();
  const server = createServer({ listen: [scope.url({ server: 's1' })], registry: false, logger });
  const gated = gatedJobs(runs);
  server.provide(JobsService, gated.jobs);
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  await server.listen();
  const client = createClient({ url: scope.url() });
  onCleanup(t, () => client.close({ timeoutMs: 2000 }));
  const jobs = client.proxy(JobsService);

  const attacker = await amqplib.connect(BROKER);
  attacker.on('error', () => undefined);
  onCleanup(t, () => attacker.close().catch(() => undefined));
  const channel = await attacker.createConfirmChannel();

  // Honest calls run alongside forged requests, and answer right after them, while the requests of
  // the next round are still unacknowledged.
  const honest: Array<Promise<string>> = [];
  for (let round = 0; round < 3; round++) {
    for (const [i, replyTo] of forged.entries()) {
      honest.push(jobs.charge.with({ timeoutMs: 20_000 })(`h${round}-${i}`));
      channel.publish(scope.exchange, JobsService.id, Buffer.from(JSON.stringify([`x${round}-${i}`])), {
        type: 'charge', contentType: 'application/json', correlationId: `x${round}-${i}`, replyTo,
      });
    }
    await channel.waitForConfirms();
    await waitUntil(() => runs.size === (round + 1) * forged.length * 2, 10_000);
    gated.release();
  }
  const answers = await Promise.all(honest);
  assert.deepEqual(answers, honest.map((_, n) => `h${Math.floor(n / forged.length)}-${n % forged.length}`));
  const last = jobs.charge.with({ timeoutMs: 10_000 })('last');
  await waitUntil(() => runs.has('charge last'), 10_000);
  gated.release();
  assert.equal(await last, 'last', 'served on after the attack');

  const twice = [...runs].filter(([, count]) => count !== 1);
  assert.deepEqual(twice, [], 'every request, honest or forged, ran exactly once');
  assert.equal(runs.size, 3 * forged.length * 2 + 1);
  assert.deepEqual(lost.filter((name) => !name.includes('(replies)')), [], 'the connection that consumes requests was never lost');
  // Malformed addresses never reach the broker; a well-formed forgery costs the reply connection
  // at most twice (in a batch, then alone), and is refused from then on.
  assert.deepEqual([...refused].sort(), forged.slice(3).sort(), 'refused exactly the well-formed forgeries');
  assert.ok(lost.length <= 4, `the reply connection was lost ${lost.length} times`);
});
