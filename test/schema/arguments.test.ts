import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as v from 'valibot';
import { z } from 'zod';
import { Code, defineService } from '../../src/index.js';
import { schemaIssuesOf } from '../../src/schema/issues.js';
import { hasCode, recordEscapes, rejection } from '../support/assertions.js';
import { serve } from './peers.js';

const Address = z.object({ street: z.string().min(1), zip: z.string().regex(/^\d{5}$/) });

const Shop = defineService('test.schema.Shop', {
  methods: {
    add: { args: [z.number(), z.number()], result: z.number() },
    ship: { args: [z.object({ items: z.array(z.object({ sku: z.string(), qty: z.number().int().positive() })), to: Address })] },
    // Conversions and defaults: the implementation sees the outputs.
    page: { args: [z.coerce.number().int(), z.number().int().default(20), z.string().trim().toLowerCase().optional()] },
    // An async refinement: zod answers `validate` with a promise.
    reserve: { args: [z.string().refine(async (name) => name !== 'taken', { message: 'the name is taken' })] },
  },
});

const Valibot = defineService('test.schema.Valibot', {
  methods: {
    greet: { args: [v.pipe(v.string(), v.trim(), v.minLength(1)), v.optional(v.number(), 1)] },
    // Async: valibot's `*Async` schemas answer `validate` with a promise.
    claim: { args: [v.pipeAsync(v.string(), v.checkAsync(async (name) => name !== 'taken', 'the name is taken'))] },
    point: { args: [v.object({ x: v.number(), y: v.number() })] },
  },
});

describe('argument schemas over tcp', () => {
  it('refuses arguments a zod schema rejects with INVALID_ARGUMENT, the issues in details, and does not run the handler', async (t) => {
    const escaped = recordEscapes(t);
    const seen: unknown[] = [];
    const shop = await serve(t, Shop, {
      add: async (a, b) => a + b,
      ship: async (order) => void seen.push(order),
      page: async () => undefined,
      reserve: async () => undefined,
    });
    const error = await rejection(shop.ship({ items: [{ sku: 'a', qty: 0 }], to: { street: '', zip: '1234' } }));
    assert.equal(error.code, Code.INVALID_ARGUMENT);
    assert.match(error.message, /^invalid arguments for test\.schema\.Shop\.ship: args\[0\]\.items\[0\]\.qty: .*\(and 2 more issues\)$/);
    assert.deepEqual(schemaIssuesOf(error)?.map((issue) => issue.path), [[0, 'items', 0, 'qty'], [0, 'to', 'street'], [0, 'to', 'zip']]);
    assert.ok(schemaIssuesOf(error)?.every((issue) => typeof issue.message === 'string' && issue.message.length > 0));
    assert.deepEqual(seen, [], 'the handler did not run');
    await assert.rejects((shop.add as (...args: unknown[]) => Promise<number>)(1, '2'), (thrown: unknown) => {
      hasCode(Code.INVALID_ARGUMENT, /args\[1\]: Invalid input: expected number, received string/)(thrown);
      assert.deepEqual(schemaIssuesOf(thrown), [{ message: 'Invalid input: expected number, received string', path: [1] }]);
      return true;
    });
    assert.equal(await shop.add(2, 3), 5, 'good arguments pass');
    assert.deepEqual(escaped, []);
  });

  it('refuses more arguments than schemas, and checks missing ones as undefined', async (t) => {
    const escaped = recordEscapes(t);
    const shop = await serve(t, Shop, { add: async (a, b) => a + b, ship: async () => undefined, page: async () => undefined, reserve: async () => undefined });
    const add = shop.add as (...args: unknown[]) => Promise<number>;
    await assert.rejects(add(1, 2, 3), hasCode(Code.INVALID_ARGUMENT, /test\.schema\.Shop\.add takes 2 arguments, not 3/));
    const missing = await rejection(add(1));
    assert.equal(missing.code, Code.INVALID_ARGUMENT);
    assert.deepEqual(schemaIssuesOf(missing)?.map((issue) => issue.path), [[1]]);
    assert.deepEqual(escaped, []);
  });

  it('hands the implementation what the schemas output: coerced numbers, defaults, trimmed strings', async (t) => {
    const seen: unknown[][] = [];
    const shop = await serve(t, Shop, {
      add: async (a, b) => a + b,
      ship: async () => undefined,
      page: async (...args) => void seen.push(args),
      reserve: async () => undefined,
    });
    const page = shop.page as (...args: unknown[]) => Promise<void>;
    await page('3');
    await page(4, 50, '  Shoes ');
    assert.deepEqual(seen, [[3, 20, undefined], [4, 50, 'shoes']]);
  });

  it('waits for async zod and valibot schemas, and refuses what they reject', async (t) => {
    const escaped = recordEscapes(t);
    const reserved: string[] = [];
    const shop = await serve(t, Shop, { add: async (a, b) => a + b, ship: async () => undefined, page: async () => undefined, reserve: async (name) => void reserved.push(name) });
    await shop.reserve('free');
    await assert.rejects(shop.reserve('taken'), (error: unknown) => {
      hasCode(Code.INVALID_ARGUMENT, /args\[0\]: the name is taken/)(error);
      assert.deepEqual(schemaIssuesOf(error), [{ message: 'the name is taken', path: [0] }]);
      return true;
    });
    const claimed: string[] = [];
    const valibot = await serve(t, Valibot, { greet: async (name, times) => `${name}×${times}`, claim: async (name) => void claimed.push(name), point: async ({ x, y }) => x + y });
    await valibot.claim('free');
    await assert.rejects(valibot.claim('taken'), hasCode(Code.INVALID_ARGUMENT, /the name is taken/));
    assert.deepEqual([reserved, claimed], [['free'], ['free']], 'only the accepted calls ran');
    assert.deepEqual(escaped, []);
  });

  it('takes valibot schemas: outputs, defaults and issue paths', async (t) => {
    const valibot = await serve(t, Valibot, { greet: async (name, times) => `${name}×${times}`, claim: async () => undefined, point: async ({ x, y }) => x + y });
    assert.equal(await (valibot.greet as (...args: unknown[]) => Promise<string>)('  Ada '), 'Ada×1');
    const error = await rejection(valibot.point({ x: 1, y: 'two' } as unknown as { x: number; y: number }));
    assert.equal(error.code, Code.INVALID_ARGUMENT);
    assert.deepEqual(schemaIssuesOf(error)?.map((issue) => issue.path), [[0, 'y']]);
  });

  it('reports at most 32 issues, counting the others', async (t) => {
    const Bulk = defineService('test.schema.Bulk', { methods: { put: { args: [z.array(z.number())] } } });
    const bulk = await serve(t, Bulk, { put: async () => undefined });
    const error = await rejection(bulk.put(Array.from({ length: 40 }, () => 'x') as unknown as number[]));
    assert.equal(schemaIssuesOf(error)?.length, 32);
    assert.equal(error.details.moreIssues, 8);
    assert.match(error.message, /\(and 39 more issues\)$/);
  });
});
