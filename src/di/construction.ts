import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import { nameOf } from './decorator-context.js';
import type { ReferenceDeclaration } from './reference-field.js';

/** A class a container can build: constructible with no arguments. */
export type Constructor<T = object> = new () => T;

/** What the injected fields of an instance ask of the container that builds it. */
export interface Injector {
  /** The proxy of one `@Reference` declaration. */
  reference(declaration: ReferenceDeclaration): unknown;
  /** The container's instance of a class (`@Inject`). */
  get(target: Constructor<unknown>): unknown;
}

interface Building {
  readonly target: Constructor<unknown>;
  readonly injector: Injector;
}

/**
 * The instance being built, and by whom. Field initializers run synchronously inside `new`, so
 * whatever an injected field's initializer sees here was set by the `build` that is running; a
 * nested `build` (an `@Inject` field) sets its own and puts this one back.
 */
let building: Building | undefined;

/** `new target()`, with its injected fields (its own and its base classes') filled by `injector`. */
export function build<T>(target: Constructor<T>, injector: Injector): T {
  const outer = building;
  building = { target, injector };
  try {
    return new target();
  } finally {
    building = outer;
  }
}

/**
 * The injector of `instance`, asked by the initializer of one of its fields. An instance made with
 * plain `new`, or any other object made while a container builds something else, has none.
 */
export function injectorOf(instance: unknown, decorator: string, field: string | symbol): Injector {
  if (building !== undefined && instance instanceof building.target) return building.injector;
  const name = nameOf(instance);
  throw new RpcError(Code.FAILED_PRECONDITION,
    `${name}.${String(field)} is filled by ${decorator}, so ${name} must be made by a container: register it and call container.get(${name})`);
}
