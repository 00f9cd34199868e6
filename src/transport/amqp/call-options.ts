import { Code } from '../../core/code.js';
import type { Invocation } from '../../core/invocation.js';
import { RpcError } from '../../core/rpc-error.js';

/**
 * Per-call options of the `amqp://` transport, given under `amqp` in call options:
 *
 * ```ts
 * await inventory.flushCache.with({ amqp: { fanout: true } })();
 * await inventory.reserve.with({ amqp: { targetServer: 'warehouse-2' } })('apple', 1);
 * ```
 *
 * Other transports ignore them, so a proxy that sets them still works over any address.
 */
export interface AmqpCallOptions {
  /** Deliver to this one named server (oslo.messaging's `topic.server`) instead of any. */
  targetServer?: string;
  /** Deliver the call to every server of the service. It makes the call one-way; `oneWay: false` with it is refused. */
  fanout?: boolean;
}

declare module '../../core/invocation.js' {
  interface TransportCallOptions {
    amqp?: AmqpCallOptions;
  }
}

/** Where a call goes, read from its `amqp` options. */
export interface SendMode {
  readonly fanout: boolean;
  readonly targetServer: string | undefined;
}

const validServer = /^[A-Za-z0-9_.:@-]{1,100}$/;
const anyServer: SendMode = { fanout: false, targetServer: undefined };

/** Reads and checks a call's `amqp` options; a contradictory or malformed one is INVALID_ARGUMENT. */
export function sendModeOf(invocation: Invocation): SendMode {
  const options = invocation.transportOptions?.amqp;
  if (options === undefined) return anyServer;
  const fanout = options.fanout === true;
  const { targetServer } = options;
  if (fanout && !invocation.oneWay) throw new RpcError(Code.INVALID_ARGUMENT, 'a fanout call is one-way; it cannot wait for a result', { unprocessed: true });
  if (fanout && targetServer !== undefined) throw new RpcError(Code.INVALID_ARGUMENT, 'a call is either fanout or for one target server, not both', { unprocessed: true });
  if (targetServer !== undefined && (typeof targetServer !== 'string' || !validServer.test(targetServer))) {
    throw new RpcError(Code.INVALID_ARGUMENT, `invalid target server ${JSON.stringify(targetServer)}: letters, digits and _.:@- only`, { unprocessed: true });
  }
  return { fanout, targetServer };
}
