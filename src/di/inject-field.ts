import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import { injectorOf, type Constructor } from './construction.js';
import { expectDecoratorOf, nameOf } from './decorator-context.js';

/**
 * Fills an instance field with the container's instance of another registered class (the one
 * singleton, or a new one for a transient class). Standard decorators have no parameter
 * decorators, so this is how one container class depends on another; the field is set before the
 * constructor's body runs, so the constructor may use it. A class declared further down the same
 * file is not defined yet when the decorator runs: name it through an arrow function,
 * `@Inject(() => Ledger)`.
 *
 * ```ts
 * class Checkout {
 *   @Inject(Billing) private readonly billing!: Billing;
 * }
 * ```
 */
export function Inject<T>(target: Constructor<T> | (() => Constructor<T>)) {
  if (typeof target !== 'function') throw new RpcError(Code.INVALID_ARGUMENT, '@Inject takes a class, or an arrow function that returns one');
  // An arrow function has no prototype; a class always has one.
  const resolve = 'prototype' in target ? () => target as Constructor<T> : (target as () => Constructor<T>);
  const decorator = 'prototype' in target ? `@Inject(${nameOf(target)})` : '@Inject';
  return function <This>(_value: undefined, context: ClassFieldDecoratorContext<This, T>): (this: This, initial: T) => T {
    expectDecoratorOf('field', decorator, context);
    const field = context.name;
    return function (this: This): T {
      return injectorOf(this, decorator, field).get(resolve()) as T;
    };
  };
}
