import { MessagePattern } from '@nestjs/microservices';
import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import type { MethodNames, ServiceDefinition } from '../core/service.js';

/**
 * The transport id of `SwitchyardTransport`. Handlers declared with `SwitchyardMethod` carry it, so
 * that in a hybrid application they register with Switchyard only, not with a TCP or Redis server
 * beside it. `Symbol.for`, so that two copies of this module in one process agree on it.
 */
export const SWITCHYARD_TRANSPORT: unique symbol = Symbol.for('switchyard.nestjs.transport');

/**
 * The pattern of a Nest handler that serves one method of a Switchyard service: the service's id
 * (`group/name:version`, `definition.id`) or its bare name, and a method its definition declares.
 */
export interface SwitchyardPattern {
  service: string;
  method: string;
}

/**
 * The pattern of `definition`'s `method`, for `@MessagePattern(...)`; refuses a method the
 * definition does not declare, at once, rather than when the microservice starts.
 */
export function switchyardPattern<T>(definition: ServiceDefinition<T>, method: MethodNames<T>): SwitchyardPattern {
  if (!definition.methods.has(method)) {
    throw new RpcError(Code.INVALID_ARGUMENT, `service ${definition.id} declares no method ${JSON.stringify(method)}`);
  }
  return { service: definition.id, method };
}

/**
 * Declares a controller method as the handler of a Switchyard method: `@MessagePattern` with the
 * method's pattern, for `SwitchyardTransport` only.
 *
 * ```ts
 * @Controller()
 * class CalculatorController {
 *   @SwitchyardMethod(CalculatorService, 'add')
 *   add([a, b]: Parameters<Calculator['add']>) { return a + b; }
 * }
 * ```
 */
export function SwitchyardMethod<T>(definition: ServiceDefinition<T>, method: MethodNames<T>): MethodDecorator {
  return MessagePattern(switchyardPattern(definition, method), SWITCHYARD_TRANSPORT);
}

/** The pattern a handler's route (Nest's string form of its pattern) names, if it is a Switchyard pattern. */
export function patternOfRoute(route: string): SwitchyardPattern | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(route);
  } catch {
    return undefined; // a string pattern of another transport
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const { service, method, ...rest } = parsed as Record<string, unknown>;
  if (typeof service !== 'string' || typeof method !== 'string' || Object.keys(rest).length > 0) return undefined;
  return { service, method };
}
