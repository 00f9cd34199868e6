import { Code } from './code.js';
import type { Metadata } from './metadata.js';
import type { Principal } from './principal.js';
import { RpcError, errorMessage } from './rpc-error.js';
import type { ServiceDefinition } from './service.js';

/** What a gate knows of a call before any of its arguments are decoded. */
export interface GateRequest {
  readonly service: ServiceDefinition;
  readonly method: string;
  /** The request metadata, credentials included (`authorization`); undefined when the call carries none. */
  readonly metadata: Metadata | undefined;
  /** The identity of the connection's TLS client certificate, when the client presented a trusted one. */
  readonly peer: Principal | undefined;
  /** The scheme of the listener the call came in on: `tcp`, `tls`, `http`, `https`, `grpc`, `grpcs`, `amqp`, `amqps`. */
  readonly protocol: string;
}

/**
 * Decides whether a call may go on, once its service and method are known and before its
 * arguments are decoded, so that an unauthenticated caller costs the server no decoding and
 * reaches no handler. Answers the caller's principal (undefined for an anonymous caller that is
 * let through), at once or as a promise; refuses by throwing (or rejecting with) an `RpcError`,
 * `UNAUTHENTICATED` or `PERMISSION_DENIED`. One gate serves every transport of a server.
 */
export interface CallGate {
  admit(request: GateRequest): Principal | undefined | Promise<Principal | undefined>;
}

/**
 * Runs `gate` for one call, then `go` with the principal or `refuse` with the error, synchronously
 * when the gate answers at once (a static token), so that only a gate that must wait (a JWKS
 * fetch) costs the call a turn of the event loop. Anything else a gate throws is INTERNAL.
 */
export function passGate(gate: CallGate, request: GateRequest, go: (principal: Principal | undefined) => void, refuse: (error: RpcError) => void): void {
  let admitted: Principal | undefined | Promise<Principal | undefined>;
  try {
    admitted = gate.admit(request);
  } catch (error) {
    refuse(gateError(error));
    return;
  }
  if (!(admitted instanceof Promise)) {
    go(admitted ?? request.peer);
    return;
  }
  admitted.then(
    (principal) => go(principal ?? request.peer),
    (error: unknown) => refuse(gateError(error)),
  ).catch((error: unknown) => process.emitWarning(`a transport failed after a call passed its gate: ${errorMessage(error)}`, 'SwitchyardWarning'));
}

function gateError(error: unknown): RpcError {
  return RpcError.from(error, Code.INTERNAL);
}

/**
 * One gate made of several, asked in order; the first to refuse decides, and the principal is the
 * last one established. Undefined for none, so that a server without security pays nothing.
 */
export function chainGates(gates: readonly CallGate[]): CallGate | undefined {
  if (gates.length <= 1) return gates[0];
  return {
    admit(request) {
      let principal: Principal | undefined;
      for (let i = 0; i < gates.length; i++) {
        const admitted = gates[i]!.admit(request);
        if (admitted instanceof Promise) return finishAsync(gates, i, admitted, principal, request);
        principal = admitted ?? principal;
      }
      return principal;
    },
  };
}

async function finishAsync(gates: readonly CallGate[], at: number, pending: Promise<Principal | undefined>, before: Principal | undefined, request: GateRequest): Promise<Principal | undefined> {
  let principal = (await pending) ?? before;
  for (let i = at + 1; i < gates.length; i++) principal = (await gates[i]!.admit(request)) ?? principal;
  return principal;
}
