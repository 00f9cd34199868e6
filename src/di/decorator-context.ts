import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import type { ServiceDefinition } from '../core/service.js';

/**
 * Checks that a decorator was applied as a standard (TC39) decorator to the kind of declaration it
 * serves. Compiled with `experimentalDecorators`, a decorator gets `(prototype, key)` instead of a
 * context object; saying so beats failing later with an error about something else.
 */
export function expectDecoratorOf(kind: 'class' | 'field', decorator: string, context: unknown): void {
  const given = context as Partial<DecoratorContext> | undefined;
  if (typeof given !== 'object' || given === null || typeof given.kind !== 'string') {
    throw new RpcError(Code.INVALID_ARGUMENT, `${decorator} is a standard decorator: compile without experimentalDecorators`);
  }
  if (given.kind !== kind) {
    throw new RpcError(Code.INVALID_ARGUMENT, `${decorator} decorates a ${kind}, not the ${given.kind} ${String(given.name ?? '')}`.trimEnd());
  }
  if (kind === 'field' && (given as ClassFieldDecoratorContext).static) {
    throw new RpcError(Code.INVALID_ARGUMENT, `${decorator} decorates an instance field, not the static field ${String(given.name)}`);
  }
}

/** Refuses, when the decorator is made, anything that is not a definition made by `defineService`. */
export function expectDefinition(definition: unknown, decorator: string): asserts definition is ServiceDefinition {
  const given = definition as Partial<ServiceDefinition> | undefined;
  if (typeof given?.id !== 'string' || typeof given.methods?.get !== 'function') {
    throw new RpcError(Code.INVALID_ARGUMENT, `${decorator} takes a service definition made by defineService`);
  }
}

/** A class's name for messages, or `an anonymous class`. */
export function nameOf(target: unknown): string {
  const name = typeof target === 'function' ? target.name : (target as object | null)?.constructor?.name;
  return name === undefined || name === '' ? 'an anonymous class' : name;
}
