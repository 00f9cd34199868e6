import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { Code, defineService } from '../../src/index.js';
import { recordEscapes, rejection } from '../support/assertions.js';
import { errorLog, serve } from './peers.js';

const Money = z.object({ amount: z.number().int(), currency: z.enum(['EUR', 'USD']) });

const Ledger = defineService('test.schema.Ledger', {
  methods: {
    balance: { args: [z.string()], result: Money, checkResult: true },
    // Not checked: the result schema only types the method.
    unchecked: { result: Money },
    rounded: { args: [z.number()], result: z.number().transform((n) => Math.round(n)), checkResult: true },
    audited: { result: z.string().refine(async (text) => text.startsWith('ok'), 'not audited'), checkResult: true },
  },
});

describe('result schemas over tcp', () => {
  it('with checkResult, sends a result that fits, and answers INTERNAL for one that does not, logging the issues', async (t) => {
    const escaped = recordEscapes(t);
    const { logger, errors } = errorLog();
    const ledger = await serve(t, Ledger, {
      balance: async (account) => (account === 'broken' ? ({ amount: 1.5, currency: 'GBP' } as never) : { amount: 100, currency: 'EUR' }),
      unchecked: async () => 'anything' as never,
      rounded: async (n) => n,
      audited: async () => 'ok',
    }, { logger });
    assert.deepEqual(await ledger.balance('main'), { amount: 100, currency: 'EUR' });
    const error = await rejection(ledger.balance('broken'));
    assert.equal(error.code, Code.INTERNAL, 'the fault is the server\'s, not the caller\'s');
    assert.equal(error.message, 'the result of test.schema.Ledger.balance does not match its schema');
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.msg, 'the result of test.schema.Ledger.balance does not match its schema');
    assert.deepEqual((errors[0]!.obj.issues as Array<{ path: unknown }>).map((issue) => issue.path), [['amount'], ['currency']]);
    assert.match(String(errors[0]!.obj.issue), /^result\.amount: /);
    assert.deepEqual(escaped, []);
  });

  it('does not check results without checkResult', async (t) => {
    const ledger = await serve(t, Ledger, { balance: async () => ({ amount: 1, currency: 'EUR' }), unchecked: async () => 'anything' as never, rounded: async (n) => n, audited: async () => 'ok' });
    assert.equal(await ledger.unchecked(), 'anything');
  });

  it("sends the result schema's output, and waits for an async result schema", async (t) => {
    const escaped = recordEscapes(t);
    let audit = 'ok: balanced';
    const ledger = await serve(t, Ledger, { balance: async () => ({ amount: 1, currency: 'EUR' }), unchecked: async () => ({ amount: 1, currency: 'EUR' }), rounded: async (n) => n, audited: async () => audit });
    assert.equal(await ledger.rounded(2.6), 3);
    assert.equal(await ledger.audited(), 'ok: balanced');
    audit = 'missing entries';
    await assert.rejects(ledger.audited(), (error: unknown) => (error as { code?: unknown }).code === Code.INTERNAL);
    assert.deepEqual(escaped, []);
  });

  it('refuses the arguments of a one-way call without running it, and logs the failure', async (t) => {
    const escaped = recordEscapes(t);
    const warnings: unknown[] = [];
    const Notes = defineService('test.schema.Notes', { methods: { note: { oneWay: true, args: [z.string().max(5)] } } });
    const noted: string[] = [];
    let resolveNoted!: () => void;
    const wasNoted = new Promise<void>((resolve) => (resolveNoted = resolve));
    const noop = (): void => {};
    const notes = await serve(t, Notes, { note: async (text) => { noted.push(text); resolveNoted(); } }, { logger: { debug: noop, info: noop, error: noop, warn: (obj) => warnings.push(obj) } });
    await notes.note('far too long');
    await notes.note('short');
    await wasNoted;
    assert.deepEqual(noted, ['short'], 'the refused call did not run; calls on one connection arrive in order');
    assert.equal((warnings[0] as { code?: unknown }).code, Code.INVALID_ARGUMENT);
    assert.deepEqual(escaped, []);
  });
});
