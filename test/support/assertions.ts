import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { RpcError, type Code } from '../../src/index.js';

/** For `assert.rejects`: the error is an `RpcError` with `code` (and a message matching `message`). */
export function hasCode(code: Code, message?: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof RpcError, `expected an RpcError, got ${String(error)}`);
    assert.equal(error.code, code, `code of ${error.toString()}`);
    if (message !== undefined) assert.match(error.message, message);
    return true;
  };
}

/** The `RpcError` a call fails with; fails the test if it succeeds or throws something else. */
export async function rejection(promise: Promise<unknown>): Promise<RpcError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof RpcError, `expected an RpcError, got ${String(error)}`);
    return error;
  }
  assert.fail('the call should have failed');
}

/**
 * Collects every unhandled rejection and uncaught exception until test `t` ends, for a test that
 * asserts the list is empty and so names what escaped rather than dying on the first.
 */
export function recordEscapes(t: TestContext): unknown[] {
  const escaped: unknown[] = [];
  const record = (error: unknown) => escaped.push(error);
  process.on('unhandledRejection', record);
  process.on('uncaughtException', record);
  t.after(() => {
    process.off('unhandledRejection', record);
    process.off('uncaughtException', record);
  });
  return escaped;
}
