import { defineService } from '../../src/index.js';

/** How `fail` fails: each kind of exception a Nest handler may throw. */
export type FailureKind = 'rpc-error' | 'rpc-exception-code' | 'rpc-exception-text' | 'http-exception' | 'validation' | 'plain-error' | 'guard';

/** The service the Nest microservice of these tests serves from its controllers. */
export interface Calculator {
  add(a: number, b: number): Promise<number>;
  /** Throws RpcError INVALID_ARGUMENT `{ argument: 'b' }` when `b` is 0. */
  divide(a: number, b: number): Promise<number>;
  /** The process that served the call. */
  whoami(): Promise<{ pid: number }>;
  fail(kind: FailureKind): Promise<never>;
  /** `from`, ..., 1 from an Observable. */
  countdown(from: number): AsyncIterable<number>;
  /** `from`, ..., 1 from an async generator, behind a Nest interceptor (which wraps it in an Observable). */
  countdownGenerator(from: number): AsyncIterable<number>;
  /** 0, 1, 2, ... from an endless Observable. */
  ticks(): AsyncIterable<number>;
  /** How many `ticks` Observables are subscribed to right now. */
  openTicks(): Promise<number>;
  /** Two items, then an RpcException with code RESOURCE_EXHAUSTED. */
  brokenStream(): AsyncIterable<number>;
  /** The `tenant` metadata of the call, read from the SwitchyardContext. */
  tenant(): Promise<string | null>;
  /** Answers `held ${ms}` after `ms`: a call in flight while the microservice closes. */
  hold(ms: number): Promise<string>;
  /** How many `hold` calls are running. */
  openHolds(): Promise<number>;
}

export const CalculatorService = defineService<Calculator>('nest.Calculator', {
  version: '1.0.0',
  methods: {
    add: {},
    divide: {},
    whoami: {},
    fail: {},
    countdown: { stream: 'server' },
    countdownGenerator: { stream: 'server' },
    ticks: { stream: 'server' },
    openTicks: {},
    brokenStream: { stream: 'server' },
    tenant: {},
    hold: {},
    openHolds: {},
  },
});
