import type { CallOptions, ServiceProxy } from '../client.js';
import type { ServiceDefinition } from '../core/service.js';
import type { ReferenceOptions } from '../reference.js';
import { injectorOf } from './construction.js';
import { expectDecoratorOf, expectDefinition } from './decorator-context.js';

/** Everything a proxy is made from: what `client.proxy(definition, options)` takes. */
export type ReferenceFieldOptions = ReferenceOptions & CallOptions;

/** One `@Reference(...)` as written on one field: a container makes one proxy for it, shared by every instance. */
export interface ReferenceDeclaration<T = unknown> {
  readonly definition: ServiceDefinition<T>;
  readonly options: Readonly<ReferenceFieldOptions>;
}

/** Refuses, at compile time, a field whose type a proxy of `T` is not. */
type ProxyFits<T, Field> = [ServiceProxy<T>] extends [Field] ? unknown : { readonly 'the field must be typed ServiceProxy<T>, or T': never };

/**
 * Fills an instance field with a typed proxy of a service, made by the client of the container
 * that builds the instance (`container.get(...)`). The options are those of `client.proxy`:
 * reference options (`version`, `group`, `loadBalance`, `cluster`, `retries`, ...) and call
 * options applied to every call (`timeoutMs`, `metadata`, `credentials`, ...). The field is set
 * before the constructor's body runs, and in subclasses too. Type the field as `ServiceProxy<T>`
 * (for `.with(options)` per call) or as the service's interface `T`.
 *
 * ```ts
 * class Billing {
 *   @Reference(CalculatorService, { version: '^2.0.0', loadBalance: 'roundrobin', timeoutMs: 500 })
 *   private readonly calc!: ServiceProxy<Calculator>;
 * }
 * ```
 */
export function Reference<T>(definition: ServiceDefinition<T>, options: ReferenceFieldOptions = {}) {
  expectDefinition(definition, '@Reference');
  const decorator = `@Reference(${definition.id})`;
  // A copy, so that changing the object passed in later changes nothing.
  const declaration: ReferenceDeclaration<T> = Object.freeze({ definition, options: Object.freeze({ ...options }) });
  // The field may be typed as the proxy or as anything a proxy is, such as the service's interface.
  return function <This, Field>(_value: undefined, context: ClassFieldDecoratorContext<This, Field> & ProxyFits<T, Field>): (this: This, initial: Field) => Field {
    expectDecoratorOf('field', decorator, context);
    const field = context.name;
    return function (this: This): Field {
      return injectorOf(this, decorator, field).reference(declaration as ReferenceDeclaration) as Field;
    };
  };
}
