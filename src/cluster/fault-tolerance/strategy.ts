import type { Invocation } from '../../core/invocation.js';
import type { Logger } from '../../core/logger.js';
import type { RpcError } from '../../core/rpc-error.js';
import type { LoadBalancer } from '../balancers/balancer.js';
import type { Invoker } from '../invoker.js';
import type { RetryBudget } from '../retry-budget.js';

export interface ClusterOptions {
  /** failover: further providers to try. Default 2. */
  retries: number;
  /** forking: providers called at once. Default 2. */
  forks: number;
  /** failback: attempts in the background after the first failure. Default 3. */
  failbackRetries: number;
  /** failback: delay before the first background attempt, doubled each time. Default 1000 ms. */
  failbackDelayMs: number;
  /**
   * The budget that failover retries and failback resends draw on (`budgetAllows` of `budget.ts`
   * before each); undefined when retries are not budgeted. Retrying after an error marked
   * `unprocessed` is free: that call never reached a provider's handler, so sending it again adds
   * no load. A strategy of your own that sends a call again should ask it too.
   */
  retryBudget?: RetryBudget;
}

/**
 * What a fault-tolerance strategy works with: made once per method of a reference, so a call
 * allocates nothing for it.
 */
export interface ClusterContext {
  /** The providers that can serve the method now (the list may change between attempts). */
  invokers(): readonly Invoker[];
  /** Why `invokers()` is empty when the reason is more than "none found" (they offer other protocols, say). */
  unreachable?(): RpcError | undefined;
  readonly balancer: LoadBalancer;
  readonly options: ClusterOptions;
  readonly logger: Logger;
  /** Sends the call to one provider. */
  send(invoker: Invoker, call: Invocation): Promise<unknown>;
  /** Whether the provider takes calls of this method now (circuit not open, under its active limit). */
  admits?(invoker: Invoker): boolean;
  /** Whether the call may run again after this error: it never ran, or its method is idempotent. */
  mayRetry(error: RpcError): boolean;
}

/** One way to turn a call into attempts on providers: failover, failfast, ... */
export type ClusterStrategy = (context: ClusterContext, call: Invocation) => Promise<unknown>;
