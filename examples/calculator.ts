import { Code, RpcError, currentCall, defineService } from '../src/index.js';

/** The service as callers see it: a plain TypeScript interface. */
export interface Calculator {
  add(a: number, b: number): Promise<number>;
  divide(a: number, b: number): Promise<number>;
  /** Takes `ms` milliseconds, or less if the caller gives up first. */
  slowSquare(x: number, ms: number): Promise<number>;
}

export const CalculatorService = defineService<Calculator>('demo.Calculator', {
  version: '1.0.0',
  methods: {
    add: { idempotent: true },
    divide: { timeoutMs: 500 },
    slowSquare: { timeoutMs: 2000 },
  },
});

export class CalculatorImpl implements Calculator {
  async add(a: number, b: number): Promise<number> {
    return a + b;
  }

  async divide(a: number, b: number): Promise<number> {
    if (b === 0) throw new RpcError(Code.INVALID_ARGUMENT, 'cannot divide by zero', { details: { argument: 'b' } });
    return a / b;
  }

  async slowSquare(x: number, ms: number): Promise<number> {
    const { signal } = currentCall();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, ms);
      signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(signal.reason);
      });
    });
    return x * x;
  }
}
