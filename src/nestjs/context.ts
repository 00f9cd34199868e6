import { BaseRpcContext } from '@nestjs/microservices';
import type { Invocation } from '../core/invocation.js';
import type { Metadata } from '../core/metadata.js';
import type { Principal } from '../core/principal.js';
import type { SwitchyardPattern } from './pattern.js';

/**
 * What a Nest handler served by `SwitchyardTransport` gets with `@Ctx()`: the Switchyard call it
 * serves. The same call `currentCall()` returns, which works after an `await` in a Nest handler
 * only on a server made with `asyncContext: true` (Nest awaits before it calls the handler).
 *
 * ```ts
 * @SwitchyardMethod(CalculatorService, 'add')
 * add(@Payload() [a, b]: [number, number], @Ctx() context: SwitchyardContext) {
 *   const tenant = context.getMetadata().get('tenant');
 * }
 * ```
 */
export class SwitchyardContext extends BaseRpcContext<[Invocation]> {
  /** The call: service, method, arguments, metadata, deadline, signal, principal. */
  getCall(): Invocation {
    return this.args[0];
  }

  /** The service id and method the call is for. */
  getPattern(): SwitchyardPattern {
    const call = this.args[0];
    return { service: call.service.id, method: call.method };
  }

  /** The metadata the caller sent. */
  getMetadata(): Metadata {
    return this.args[0].metadata;
  }

  /** Metadata that goes back with the answer. */
  getResponseMetadata(): Metadata {
    return this.args[0].responseMetadata;
  }

  /**
   * Fires when the caller cancels, the deadline passes or the server cuts the call off. Made when
   * first asked for: a handler that never asks costs nothing.
   */
  getSignal(): AbortSignal | undefined {
    return this.args[0].signal;
  }

  /** The call's deadline in epoch milliseconds, or undefined for none. */
  getDeadline(): number | undefined {
    return this.args[0].deadline;
  }

  /** Who is calling, as the server's gate established it; undefined for an anonymous caller. */
  getPrincipal(): Principal | undefined {
    return this.args[0].principal;
  }
}
