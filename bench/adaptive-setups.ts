/**
 * The setups that the adaptive benchmarks compare on `add(a, b)`: which of retry budgets, adaptive
 * limits and outlier ejection a client and its server run. Adaptive limits are held at 256 and
 * above (`minLimit`), so that nothing is refused with 128 calls in flight and what is measured is
 * the bookkeeping every call pays, not shed load.
 */
import type { ClientOptions, ServerOptions } from '../src/index.js';

const held = { minLimit: 256, initialLimit: 256, maxLimit: 1000 };

/** Server option setups. */
export const servers: Record<string, Pick<ServerOptions, 'adaptiveConcurrency'>> = { plain: {}, adaptive: { adaptiveConcurrency: held } };

export interface AdaptiveSetup {
  describe: string;
  client: Pick<ClientOptions, 'retryBudget' | 'adaptiveConcurrency' | 'outlierEjection'>;
  server: keyof typeof servers;
}

/** `none` is the baseline: the call path as it was before any of these existed. */
export const setups: Record<string, AdaptiveSetup> = {
  none: { describe: 'retryBudget: false; nothing else (baseline)', client: { retryBudget: false }, server: 'plain' },
  'none-again': { describe: 'the same again: its ratio shows the noise', client: { retryBudget: false }, server: 'plain' },
  defaults: { describe: 'client defaults: the retry budget on', client: {}, server: 'plain' },
  'adaptive-client': { describe: 'client: adaptiveConcurrency per provider (held at 256+)', client: { adaptiveConcurrency: held }, server: 'plain' },
  'adaptive-server': { describe: 'server: adaptiveConcurrency (held at 256+)', client: {}, server: 'adaptive' },
  outliers: { describe: 'client: outlierEjection: {}', client: { outlierEjection: {} }, server: 'plain' },
  all: { describe: 'client: budget, adaptive limits, outlier ejection; server: adaptive limit', client: { adaptiveConcurrency: held, outlierEjection: {} }, server: 'adaptive' },
};
