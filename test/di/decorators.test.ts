import assert from 'node:assert/strict';
import test from 'node:test';
import { Code, type ServiceProxy } from '../../src/index.js';
import { Inject, Provide, Reference, createContainer, providedServices } from '../../src/di/index.js';
import { CalculatorBlue, CalculatorBlueOne, CalculatorOne, CalculatorTwo, CalculatorV1, CalculatorV2, Totals, type Calculator } from './support.js';

test('@Provide belongs to the class it decorates: a subclass provides only what it declares itself', () => {
  class PlainSubclass extends CalculatorOne {}
  assert.deepEqual(providedServices(CalculatorOne), [CalculatorV1]);
  assert.deepEqual(providedServices(CalculatorTwo), [CalculatorV2]);
  assert.deepEqual(providedServices(CalculatorBlueOne), [CalculatorBlue]);
  assert.deepEqual(providedServices(PlainSubclass), []);
});

test('stacked @Provide decorators provide one instance as several services, and one service twice is refused', () => {
  @Provide(CalculatorV2)
  @Provide(CalculatorV1)
  class BothVersions extends CalculatorOne {}
  assert.deepEqual(providedServices(BothVersions), [CalculatorV1, CalculatorV2]);
  assert.deepEqual(providedServices(CalculatorOne), [CalculatorV1], 'the base class is untouched');

  assert.throws(() => {
    @Provide(CalculatorV1)
    @Provide(CalculatorV1)
    class Twice extends CalculatorOne {}
    return Twice;
  }, { code: Code.INVALID_ARGUMENT, message: /Twice declares @Provide\(di\.Calculator:1\.0\.0\) twice/ });
});

test('@Reference anywhere but an instance field is refused when the class is defined', () => {
  assert.throws(() => {
    class OnMethod {
      // @ts-expect-error -- a field decorator on a method
      @Reference(CalculatorV1)
      method(): void {}
    }
    return OnMethod;
  }, { code: Code.INVALID_ARGUMENT, message: /@Reference\(di\.Calculator:1\.0\.0\) decorates a field, not the method method/ });
  assert.throws(() => {
    class OnAccessor {
      // @ts-expect-error -- a field decorator on an auto-accessor
      @Reference(CalculatorV1) accessor calculator!: ServiceProxy<Calculator>;
    }
    return OnAccessor;
  }, { code: Code.INVALID_ARGUMENT, message: /decorates a field, not the accessor calculator/ });
  assert.throws(() => {
    class OnStatic {
      @Reference(CalculatorV1) static calculator: ServiceProxy<Calculator>;
    }
    return OnStatic;
  }, { code: Code.INVALID_ARGUMENT, message: /not the static field calculator/ });
  assert.throws(() => {
    // @ts-expect-error -- a field decorator on a class
    @Reference(CalculatorV1)
    class OnClass {}
    return OnClass;
  }, { code: Code.INVALID_ARGUMENT, message: /decorates a field, not the class OnClass/ });
});

test('decorators called the experimentalDecorators way, or given no definition, say what is wrong', () => {
  const legacy = Reference(CalculatorV1) as unknown as (prototype: object, key: string) => void;
  assert.throws(() => legacy({}, 'calculator'), { code: Code.INVALID_ARGUMENT, message: /standard decorator: compile without experimentalDecorators/ });
  const legacyClass = Provide(CalculatorV1) as unknown as (target: object) => void;
  assert.throws(() => legacyClass(class {}), { code: Code.INVALID_ARGUMENT, message: /standard decorator/ });
  assert.throws(() => Reference({ id: 'x' } as never), { code: Code.INVALID_ARGUMENT, message: /takes a service definition made by defineService/ });
  assert.throws(() => Provide(undefined as never), { code: Code.INVALID_ARGUMENT, message: /@Provide takes a service definition/ });
  assert.throws(() => Inject('Totals' as never), { code: Code.INVALID_ARGUMENT, message: /@Inject takes a class/ });
});

test('an instance with injected fields made outside a container is refused, naming the field', () => {
  assert.throws(() => new Totals(), { code: Code.FAILED_PRECONDITION, message: /Totals\.calculator is filled by @Reference\(di\.Calculator:1\.0\.0\), so Totals must be made by a container/ });
  class Holder {
    @Inject(Totals) readonly #totals!: Totals;
    get totals(): Totals {
      return this.#totals;
    }
  }
  assert.throws(() => new Holder(), { code: Code.FAILED_PRECONDITION, message: /Holder\.#totals is filled by @Inject\(Totals\)/ });
  // Made while the container builds another class, it is still not the container's to fill.
  class Builder {
    readonly holder = new Holder();
  }
  const container = createContainer({ classes: [Builder] });
  assert.throws(() => container.get(Builder), { code: Code.FAILED_PRECONDITION, message: /Holder\.#totals/ });
});

test('a container refuses a class registered twice, an unregistered class, and a circular injection', () => {
  class Ledger {}
  const container = createContainer({ classes: [Ledger] });
  assert.throws(() => container.register(Ledger), { code: Code.FAILED_PRECONDITION, message: /Ledger is already registered in this container/ });
  assert.throws(() => container.register(Ledger, { lifetime: 'transient' }), { code: Code.FAILED_PRECONDITION });

  class Unregistered {}
  assert.throws(() => container.get(Unregistered), { code: Code.FAILED_PRECONDITION, message: /Unregistered is not registered in this container: call container.register\(Unregistered\) first/ });
  class NeedsUnregistered {
    @Inject(Unregistered) readonly unregistered!: Unregistered;
  }
  container.register(NeedsUnregistered);
  assert.throws(() => container.get(NeedsUnregistered), { message: /Unregistered is not registered/ });

  class Chicken {
    @Inject(() => Egg) readonly egg!: Egg;
  }
  class Egg {
    @Inject(Chicken) readonly chicken!: Chicken;
  }
  container.register(Chicken).register(Egg);
  assert.throws(() => container.get(Chicken), { code: Code.FAILED_PRECONDITION, message: /circular injection: Chicken -> Egg -> Chicken/ });
  // A failed build leaves nothing behind: the container still builds what it can.
  assert.ok(container.get(Ledger) instanceof Ledger);
});

test('a @Provide class is a singleton, and providing needs a server', async () => {
  assert.throws(() => createContainer().register(CalculatorOne, { lifetime: 'transient' }), { code: Code.INVALID_ARGUMENT, message: /CalculatorOne has @Provide, so it is a singleton/ });
  const container = createContainer({ classes: [CalculatorOne] });
  await assert.rejects(container.start(), { code: Code.FAILED_PRECONDITION, message: /CalculatorOne has @Provide, but the container has no server/ });
  const noServer = createContainer();
  assert.deepEqual(await noServer.start(), []);
  assert.throws(() => noServer.register(CalculatorOne), { code: Code.FAILED_PRECONDITION, message: /no server/ });
  assert.throws(() => noServer.get(CalculatorOne), { message: /not registered/ }, 'a refused registration leaves nothing behind');
  await noServer.close();
  await container.close();
  assert.throws(() => container.register(class Late {}), { code: Code.FAILED_PRECONDITION, message: /container is closed/ });
});

// Compile-time checks, made by `npx tsc -p tsconfig.json` (each @ts-expect-error must meet an error); never run.
export function typeChecks(): unknown[] {
  class Fields {
    @Reference(CalculatorV1) readonly asProxy!: ServiceProxy<Calculator>;
    @Reference(CalculatorV1) readonly asInterface!: Calculator;
    // @ts-expect-error -- a proxy of Calculator is no string
    @Reference(CalculatorV1) readonly asString!: string;
    // @ts-expect-error -- @Inject(Totals) gives a Totals
    @Inject(Totals) readonly totals!: number;
  }
  // @ts-expect-error -- the class lacks whoAmI, so it does not implement Calculator
  @Provide(CalculatorV1)
  class Incomplete {
    async add(a: number, b: number): Promise<number> {
      return a + b;
    }
  }
  class NeedsArguments {
    constructor(readonly label: string) {}
  }
  // @ts-expect-error -- a container builds classes with no constructor arguments
  createContainer().register(NeedsArguments);
  return [Fields, Incomplete];
}
