import { Code, RpcError } from '../../src/index.js';

/** A value a handler throws or returns, with what its caller may see. */
export interface OddValue {
  name: string;
  make: () => unknown;
  /** Thrown values: the code the caller must get, where it is known. */
  code?: Code;
  /** Returned values: whether the call may succeed, and whether it may fail. */
  mayArrive?: boolean;
  mayFail?: boolean;
}

const boom = () => {
  throw new Error('getter throws');
};

function errorWith(key: string): Error {
  const error = new Error('plain message');
  Object.defineProperty(error, key, { get: boom, enumerable: true });
  return error;
}

function errorWithCode(code: unknown): Error {
  return Object.assign(new Error(`code ${String(code)}`), { code });
}

const trapsThrow = (target: object): object => new Proxy(target, {
  getPrototypeOf: boom,
  get: boom,
  has: boom,
  ownKeys: boom,
  getOwnPropertyDescriptor: boom,
});

function revoked(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

function cyclic(): Record<string, unknown> {
  const value: Record<string, unknown> = { name: 'loop' };
  value.self = value;
  return value;
}

function rpcErrorWithThrowingMessage(): RpcError {
  const error = new RpcError(Code.INTERNAL, 'replaced');
  Object.defineProperty(error, 'message', { get: boom });
  return error;
}

export const thrownValues: OddValue[] = [
  { name: 'an Error whose message getter throws', make: () => errorWith('message'), code: Code.UNKNOWN },
  { name: 'an Error whose name getter throws', make: () => errorWith('name'), code: Code.UNKNOWN },
  { name: 'an Error whose code getter throws', make: () => errorWith('code'), code: Code.UNKNOWN },
  { name: 'an Error whose details getter throws', make: () => errorWith('details'), code: Code.UNKNOWN },
  { name: 'a Proxy whose getPrototypeOf throws', make: () => trapsThrow({}), code: Code.UNKNOWN },
  { name: 'a Proxy of an Error whose traps throw', make: () => trapsThrow(new Error('inside')), code: Code.UNKNOWN },
  { name: 'a revoked Proxy', make: revoked, code: Code.UNKNOWN },
  { name: 'null', make: () => null, code: Code.UNKNOWN },
  { name: 'undefined', make: () => undefined, code: Code.UNKNOWN },
  { name: 'a number', make: () => 42, code: Code.UNKNOWN },
  { name: 'a string', make: () => 'plain text thrown', code: Code.UNKNOWN },
  { name: 'a symbol', make: () => Symbol('thrown'), code: Code.UNKNOWN },
  { name: 'a bigint', make: () => 10n, code: Code.UNKNOWN },
  { name: 'a function', make: () => () => 1, code: Code.UNKNOWN },
  { name: 'a frozen object', make: () => Object.freeze({ message: 'frozen' }), code: Code.UNKNOWN },
  { name: 'a frozen Error', make: () => Object.freeze(new TypeError('frozen error')), code: Code.UNKNOWN },
  { name: 'an object whose toString throws', make: () => ({ toString: boom, [Symbol.toPrimitive]: boom }), code: Code.UNKNOWN },
  { name: 'an Error with code 0', make: () => errorWithCode(0), code: Code.UNKNOWN },
  { name: 'an Error with code -1', make: () => errorWithCode(-1), code: Code.UNKNOWN },
  { name: "an Error with code '14'", make: () => errorWithCode('14'), code: Code.UNKNOWN },
  { name: 'an Error with code 99', make: () => errorWithCode(99), code: Code.UNKNOWN },
  { name: 'an Error with code NaN', make: () => errorWithCode(NaN), code: Code.UNKNOWN },
  { name: "an Error with code 'ENOENT'", make: () => errorWithCode('ENOENT'), code: Code.UNKNOWN },
  { name: 'an Error with code 14', make: () => errorWithCode(14), code: Code.UNAVAILABLE },
  { name: 'an RpcError made with code OK', make: () => new RpcError(Code.OK, 'not ok at all'), code: Code.UNKNOWN },
  { name: 'an RpcError whose message getter throws', make: rpcErrorWithThrowingMessage },
  { name: 'an Error with cyclic details', make: () => Object.assign(new Error('cycle'), { details: cyclic() }), code: Code.UNKNOWN },
  { name: 'an Error with details holding functions, symbols and bigints', make: () => Object.assign(new Error('odd details'), { details: { f: () => 1, s: Symbol('x'), n: 5n, ok: 'yes' } }), code: Code.UNKNOWN },
  { name: 'an Error with details whose getter throws', make: () => Object.assign(new Error('odd details'), { details: Object.defineProperty({}, 'bad', { get: boom, enumerable: true }) }), code: Code.UNKNOWN },
  { name: 'an Error with details as a Proxy whose traps throw', make: () => Object.assign(new Error('proxy details'), { details: trapsThrow({}) }), code: Code.UNKNOWN },
  { name: 'an AggregateError of odd values', make: () => new AggregateError([trapsThrow({}), null], 'many'), code: Code.UNKNOWN },
  { name: 'an Error with a 1 MiB message', make: () => new Error('x'.repeat(1 << 20)), code: Code.UNKNOWN },
];

export const returnedValues: OddValue[] = [
  { name: 'null', make: () => null, mayArrive: true },
  { name: 'undefined', make: () => undefined, mayArrive: true },
  { name: 'a frozen object', make: () => Object.freeze({ a: 1 }), mayArrive: true },
  { name: 'an object whose getter throws', make: () => Object.defineProperty({}, 'bad', { get: boom, enumerable: true }), mayFail: true },
  { name: 'a Proxy whose traps throw', make: () => trapsThrow({}), mayFail: true, mayArrive: true },
  { name: 'a revoked Proxy', make: revoked, mayFail: true, mayArrive: true },
  { name: 'a cyclic object', make: cyclic, mayFail: true },
  { name: 'a function', make: () => () => 1, mayArrive: true, mayFail: true },
  { name: 'a symbol', make: () => Symbol('returned'), mayArrive: true, mayFail: true },
  { name: 'a bigint', make: () => 2n ** 70n, mayArrive: true, mayFail: true },
  { name: 'an Error', make: () => new Error('returned, not thrown'), mayArrive: true, mayFail: true },
  { name: 'an object whose toJSON throws', make: () => ({ toJSON: boom }), mayArrive: true, mayFail: true },
  { name: 'a thenable whose then throws', make: () => ({ then: boom }), mayFail: true },
  { name: 'a promise rejected with a Proxy whose traps throw', make: () => Promise.reject(trapsThrow({})), mayFail: true },
  { name: 'an object 10,000 levels deep', make: () => deep(10_000), mayArrive: true, mayFail: true },
];

function deep(levels: number): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < levels; i++) value = { next: value };
  return value;
}
