import assert from 'node:assert/strict';
import test from 'node:test';
import { RpcException } from '@nestjs/microservices';
import { Observable, concat, finalize, of, throwError } from 'rxjs';
import { Code, RpcError } from '../../src/index.js';
import { lastValueOf, streamOfObservable } from '../../src/nestjs/observable.js';

/** An Observable that records whether it is subscribed, and lets the test emit into it. */
function controlled<T>() {
  const state = { subscribed: 0, unsubscribed: 0, emit: (_value: T) => {}, fail: (_error: unknown) => {}, complete: () => {} };
  const source = new Observable<T>((subscriber) => {
    state.subscribed++;
    state.emit = (value) => subscriber.next(value);
    state.fail = (error) => subscriber.error(error);
    state.complete = () => subscriber.complete();
    return () => state.unsubscribed++;
  });
  return { source, state };
}

async function collect(stream: AsyncIterable<unknown>): Promise<unknown[]> {
  const values: unknown[] = [];
  for await (const value of stream) values.push(value);
  return values;
}

test('a stream subscribes on the first next() and delivers what the Observable emitted at once', async () => {
  const { source, state } = controlled<number>();
  const stream = streamOfObservable(source, undefined)[Symbol.asyncIterator]();
  assert.equal(state.subscribed, 0, 'nothing happens before the caller reads');
  const first = stream.next();
  state.emit(1);
  state.emit(2);
  state.complete();
  assert.deepEqual(await first, { value: 1, done: false });
  assert.deepEqual(await stream.next(), { value: 2, done: false });
  assert.deepEqual(await stream.next(), { value: undefined, done: true });
  assert.deepEqual(await collect(streamOfObservable(of(1, 2, 3), undefined)), [1, 2, 3]);
});

test('a stream delivers the items before a failure, then the failure as an RpcError', async () => {
  const values: unknown[] = [];
  const source = concat(of('a', 'b'), throwError(() => new RpcException({ code: 'NOT_FOUND', message: 'gone' })));
  const error = await (async () => {
    for await (const value of streamOfObservable(source, undefined)) values.push(value);
  })().then(() => undefined, (thrown: unknown) => thrown);
  assert.deepEqual(values, ['a', 'b']);
  assert.ok(error instanceof RpcError);
  assert.equal(error.code, Code.NOT_FOUND);
  assert.equal(error.message, 'gone');
});

test('a caller that stops reading unsubscribes the Observable', async () => {
  const { source, state } = controlled<number>();
  const iterator = streamOfObservable(source, undefined)[Symbol.asyncIterator]();
  const first = iterator.next();
  state.emit(7);
  assert.deepEqual(await first, { value: 7, done: false });
  await iterator.return!();
  assert.equal(state.unsubscribed, 1);
  assert.deepEqual(await iterator.next(), { value: undefined, done: true });
});

test('an aborted call unsubscribes and ends the pending read with the abort reason', async () => {
  const { source, state } = controlled<number>();
  const controller = new AbortController();
  const pending = streamOfObservable(source, controller.signal)[Symbol.asyncIterator]().next();
  const reason = new RpcError(Code.DEADLINE_EXCEEDED, 'deadline exceeded');
  controller.abort(reason);
  await assert.rejects(pending, (error: unknown) => error === reason);
  assert.equal(state.unsubscribed, 1);
});

test('an item that is an async iterable is pulled in its place', async () => {
  async function* letters() {
    yield 'x';
    yield 'y';
  }
  assert.deepEqual(await collect(streamOfObservable(of(letters()), undefined)), ['x', 'y']);
  assert.deepEqual(await collect(streamOfObservable(of(0, letters(), 3), undefined)), [0, 'x', 'y', 3]);
});

test('a stream of an Observable that never emits ends when the caller stops, finalizing the source', async () => {
  let finalized = false;
  const iterator = streamOfObservable(new Observable<never>(() => {}).pipe(finalize(() => (finalized = true))), undefined)[Symbol.asyncIterator]();
  const pending = iterator.next();
  await iterator.return!();
  assert.deepEqual(await pending, { value: undefined, done: true });
  assert.equal(finalized, true);
});

test('a unary answer is the last value, undefined for an empty Observable, and an RpcError for a failure', async () => {
  assert.equal(await lastValueOf(of(1, 2, 3), undefined), 3);
  assert.equal(await lastValueOf(of(), undefined), undefined);
  await assert.rejects(lastValueOf(throwError(() => ({ status: 'error', message: 'Internal server error' })), undefined), (error: unknown) =>
    error instanceof RpcError && error.code === Code.UNKNOWN && error.message === 'Internal server error');
});

test('a unary answer whose call is aborted unsubscribes and rejects with the reason', async () => {
  const { source, state } = controlled<number>();
  const controller = new AbortController();
  const answer = lastValueOf(source, controller.signal);
  state.emit(1);
  controller.abort(new RpcError(Code.CANCELLED, 'the caller went away'));
  await assert.rejects(answer, (error: unknown) => error instanceof RpcError && error.code === Code.CANCELLED && error.message === 'the caller went away');
  assert.equal(state.unsubscribed, 1);
});
