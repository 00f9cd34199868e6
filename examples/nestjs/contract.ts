// The contract both sides share: a TypeScript interface and its Switchyard definition.
import { defineService } from '../../src/index.js';

export interface Calculator {
  add(a: number, b: number): Promise<number>;
  divide(a: number, b: number): Promise<number>;
  /** `from`, `from - 1`, ..., 1: a server stream. */
  countdown(from: number): AsyncIterable<number>;
}

export const CalculatorService = defineService<Calculator>('demo.NestCalculator', {
  version: '1.0.0',
  methods: {
    add: { idempotent: true },
    divide: {},
    countdown: { stream: 'server' },
  },
});
