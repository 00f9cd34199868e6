import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import type { ServiceDefinition } from '../core/service.js';
import { expectDecoratorOf, expectDefinition, nameOf } from './decorator-context.js';

/**
 * The services each class declares with `@Provide`, keyed by the class itself. A subclass is a key
 * of its own: it provides what it declares, never what its base class does, so registering a base
 * class and a subclass never provides one service twice.
 */
const declared = new WeakMap<object, readonly ServiceDefinition[]>();

/**
 * Marks a class as the implementation of a service: a container's `start()` provides one instance
 * of it on the container's server. The class must implement the service's interface (checked by
 * the compiler) and be constructible with no arguments. Stack several to provide several services
 * from one instance. Versions and groups come from the definition, as with `server.provide`.
 *
 * ```ts
 * @Provide(CalculatorService)
 * class CalculatorImpl implements Calculator { async add(a: number, b: number) { return a + b; } }
 * ```
 */
export function Provide<T>(definition: ServiceDefinition<T>) {
  expectDefinition(definition, '@Provide');
  const decorator = `@Provide(${definition.id})`;
  return function <C extends new (...args: never[]) => T>(_target: C, context: ClassDecoratorContext<C>): void {
    expectDecoratorOf('class', decorator, context);
    // Runs on the finished class, so a class decorator applied after this one that returns a new class is the one recorded.
    context.addInitializer(function (this: C) {
      const own = declared.get(this) ?? [];
      if (own.some((known) => known.id === definition.id)) {
        throw new RpcError(Code.INVALID_ARGUMENT, `${nameOf(this)} declares ${decorator} twice`);
      }
      declared.set(this, Object.freeze([...own, definition as ServiceDefinition]));
    });
  };
}

/** The services a class declares with `@Provide` itself (not those of its base classes), outermost decorator last. */
export function providedServices(target: abstract new (...args: never[]) => unknown): readonly ServiceDefinition[] {
  return declared.get(target) ?? [];
}
