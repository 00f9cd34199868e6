import type { Invocation } from '../core/invocation.js';
import type { Logger } from '../core/logger.js';
import type { RpcError } from '../core/rpc-error.js';
import type { LoadBalancer } from './balancers/balancer.js';
import type { ClusterContext, ClusterOptions } from './fault-tolerance/strategy.js';
import type { Invoker } from './invoker.js';

/**
 * A method's strategy context for one call whose providers were routed by the call's own data (a
 * tag, an argument): everything is the method's, but `invokers()` gives this call's providers, so a
 * strategy, the built-in ones or a user's, works as it always does. Made only for calls that a
 * routing rule reads; others use the method's context as it is.
 */
export class RoutedContext implements ClusterContext {
  readonly balancer: LoadBalancer;
  readonly options: ClusterOptions;
  readonly logger: Logger;
  readonly send: (invoker: Invoker, call: Invocation) => Promise<unknown>;
  readonly admits: ((invoker: Invoker) => boolean) | undefined;
  readonly mayRetry: (error: RpcError) => boolean;

  /**
   * @param routed the providers routing kept for the call
   * @param why why there are none, when `routed` is empty (a routing rule's explanation)
   */
  constructor(base: ClusterContext, private readonly routed: readonly Invoker[], private readonly why: RpcError | undefined) {
    this.balancer = base.balancer;
    this.options = base.options;
    this.logger = base.logger;
    this.send = base.send;
    this.admits = base.admits;
    this.mayRetry = base.mayRetry;
  }

  invokers(): readonly Invoker[] {
    return this.routed;
  }

  unreachable(): RpcError | undefined {
    return this.why;
  }
}
