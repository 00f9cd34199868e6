import { noProvider } from './pick.js';
import type { ClusterStrategy } from './strategy.js';

/**
 * Calls every provider at once; fails if any fails (with the first failure), else resolves with
 * the result of the last provider in the list. For cache invalidation and config pushes.
 */
export const broadcast: ClusterStrategy = async (context, call) => {
  const invokers = context.invokers();
  if (invokers.length === 0) throw noProvider(context, call);
  const results = await Promise.allSettled(invokers.map((invoker) => context.send(invoker, call)));
  const failed = results.find((result) => result.status === 'rejected');
  if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
  return (results[results.length - 1] as PromiseFulfilledResult<unknown>).value;
};
