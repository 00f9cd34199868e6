import assert from 'node:assert/strict';
import { Code, codeName } from '../core/code.js';
import type { Metadata } from '../core/metadata.js';
import { RpcError } from '../core/rpc-error.js';
import { mistakeCodes, rejectionOf, type Row } from './fixture.js';
import { uniqueTag } from './probe.js';
import { AbsentService, ConformanceService, WiderConformanceService } from './service.js';

/** Long enough for a loaded machine to start the handler before it passes. */
const DEADLINE_MS = 2000;

function assertAbortedByRpcError(reason: unknown, what: string): void {
  assert.ok(reason instanceof RpcError, `${what}: the handler's signal fired with ${String(reason)}, not an RpcError`);
}

export const callRows: readonly Row[] = [
  {
    name: 'errors: an RpcError keeps its code, message and details',
    async run({ service }) {
      const error = await rejectionOf(service.fail('rpc-error'), 'fail(rpc-error)');
      assert.equal(codeName(error.code), codeName(Code.FAILED_PRECONDITION));
      assert.equal(error.name, 'RpcError');
      assert.equal(error.message, 'the ledger is closed');
      assert.deepEqual(error.details, { ledger: 'main', attempts: 3, flags: [true, null], nested: { reason: 'audit' } });
    },
  },
  {
    name: 'errors: details keep bigints, dates and bytes',
    async run({ service }) {
      const error = await rejectionOf(service.fail('rich-details'), 'fail(rich-details)');
      assert.equal(codeName(error.code), codeName(Code.FAILED_PRECONDITION));
      assert.deepStrictEqual({ ...error.details }, { total: 2n ** 64n, at: new Date('2024-02-29T12:34:56.789Z'), digest: Buffer.from([1, 2, 255]) });
    },
  },
  {
    name: 'errors: another Error keeps its name and message, with code UNKNOWN',
    async run({ service }) {
      const error = await rejectionOf(service.fail('error-subclass'), 'fail(error-subclass)');
      assert.equal(codeName(error.code), codeName(Code.UNKNOWN));
      assert.equal(error.name, 'LedgerError');
      assert.equal(error.message, 'ledger entry 7 is missing');
    },
  },
  {
    name: 'errors: a thrown non-Error is an UNKNOWN error describing it',
    async run({ service }) {
      const error = await rejectionOf(service.fail('non-error'), 'fail(non-error)');
      assert.equal(codeName(error.code), codeName(Code.UNKNOWN));
      assert.match(error.message, /non-error value thrown: 42/);
    },
  },
  {
    name: 'deadlines: the caller gets DEADLINE_EXCEEDED and the handler its signal',
    async run({ service, probe }) {
      const tag = uniqueTag('deadline');
      const call = service.hold.with({ timeoutMs: DEADLINE_MS })(tag);
      const error = await rejectionOf(call, 'hold past its deadline');
      assert.equal(codeName(error.code), codeName(Code.DEADLINE_EXCEEDED), error.message);
      assert.ok(probe.happened(`started:${tag}`), `the handler never started within the ${DEADLINE_MS} ms deadline`);
      assertAbortedByRpcError(await probe.next(`aborted:${tag}`), 'deadline');
    },
  },
  {
    name: "cancellation: the caller's AbortSignal fires the handler's signal",
    async run({ service, probe }) {
      const tag = uniqueTag('cancel');
      const controller = new AbortController();
      const call = service.hold.with({ signal: controller.signal })(tag);
      await probe.next(`started:${tag}`);
      controller.abort();
      const error = await rejectionOf(call, 'hold, cancelled');
      assert.equal(codeName(error.code), codeName(Code.CANCELLED), error.message);
      assertAbortedByRpcError(await probe.next(`aborted:${tag}`), 'cancellation');
    },
  },
  {
    name: 'metadata: request metadata reaches the handler, response metadata the caller',
    async run({ service }) {
      let received: Metadata | undefined;
      const seen = await service.metadata.with({ metadata: { 'x-conformance': 'blue' }, onResponseMetadata: (metadata) => (received = metadata) })();
      assert.equal(seen.text, 'blue');
      assert.equal(received?.get('x-served-by'), 'conformance');
    },
  },
  {
    name: 'metadata: binary values travel both ways under -bin keys',
    async run({ service }) {
      let received: Metadata | undefined;
      const seen = await service.metadata.with({ metadata: { 'x-blob-bin': new Uint8Array([1, 2, 250]) }, onResponseMetadata: (metadata) => (received = metadata) })();
      assert.ok(seen.blob instanceof Uint8Array, `the handler got ${String(seen.blob)} for x-blob-bin`);
      assert.deepEqual([...seen.blob], [1, 2, 250]);
      const reply = received?.get('x-reply-bin');
      assert.ok(reply instanceof Uint8Array, `the caller got ${String(reply)} for x-reply-bin`);
      assert.deepEqual([...reply], [9, 0, 255]);
    },
  },
  {
    name: 'one-way: the call resolves with nothing and the handler runs',
    async run({ service, probe }) {
      const tag = uniqueTag('notify');
      assert.equal(await service.notify(tag), undefined);
      await probe.next(`notified:${tag}`);
    },
  },
  {
    name: 'bad input: an undeclared method is UNIMPLEMENTED, on the client and on the server',
    async run({ client }) {
      const local = await rejectionOf(client.invoke(ConformanceService, 'undeclared', []), 'invoke(undeclared) by its own definition');
      assert.equal(codeName(local.code), codeName(Code.UNIMPLEMENTED));
      assert.equal(local.unprocessed, true, 'refused before it was sent');
      // A caller whose definition declares one method more than the server's reaches the server with it.
      const remote = await rejectionOf(client.invoke(WiderConformanceService, 'undeclared', []), 'invoke(undeclared) by a wider definition');
      assert.equal(codeName(remote.code), codeName(Code.UNIMPLEMENTED), remote.message);
      assert.match(remote.message, /undeclared/);
    },
  },
  {
    name: 'bad input: an unknown service is NOT_FOUND',
    async run({ client }) {
      const error = await rejectionOf(client.invoke(AbsentService, 'anything', []), 'a service nobody provides');
      assert.equal(codeName(error.code), codeName(Code.NOT_FOUND), error.message);
    },
  },
  {
    name: 'bad input: arguments refused by validate are INVALID_ARGUMENT and the handler does not run',
    async run({ client, service, probe }) {
      const before = probe.validatedRuns;
      const error = await rejectionOf(client.invoke(ConformanceService, 'validated', ['three']), 'validated("three")');
      assert.equal(codeName(error.code), codeName(Code.INVALID_ARGUMENT), error.message);
      assert.match(error.message, /validated takes one number/);
      assert.equal(probe.validatedRuns, before, 'the handler did not run');
      assert.equal(await service.validated(3), 6, 'valid arguments pass');
    },
  },
  {
    name: 'bad input: a value the serializer refuses fails before it is sent',
    async run({ service, probe }) {
      const tag = uniqueTag('refused');
      const error = await rejectionOf(service.receive(tag, new Error('a value')), 'receive(an Error value)');
      assert.equal(codeName(error.code), codeName(Code.INVALID_ARGUMENT), error.message);
      assert.match(error.message, /cannot carry an Error value/);
      assert.equal(error.unprocessed, true, 'marked as never sent');
      assert.equal(probe.received.has(tag), false);
    },
  },
  {
    name: 'handler mistakes: a unary method returning an async generator fails, naming the method',
    async run({ service }) {
      const error = await rejectionOf(service.unaryReturningGenerator(), 'unaryReturningGenerator()');
      assert.ok(mistakeCodes.includes(error.code), `code ${codeName(error.code)}: ${error.message}`);
      assert.match(error.message, /unaryReturningGenerator/);
    },
  },
];
