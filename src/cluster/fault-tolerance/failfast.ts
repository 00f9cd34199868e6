import { pick } from './pick.js';
import type { ClusterStrategy } from './strategy.js';

/** One attempt; any failure goes straight to the caller. For calls that must not run twice. */
export const failfast: ClusterStrategy = (context, call) => context.send(pick(context, call), call);
