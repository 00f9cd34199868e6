import { ArgKeyWriter, type Key } from '../../src/interceptors/arg-key.js';

/** The cache key of the argument list `args`, as a copy of its own. */
export function keyOf(...args: unknown[]): Key {
  const writer = new ArgKeyWriter();
  if (!writer.write(args)) throw new Error('these arguments have no key');
  return { units: writer.units.slice(0, writer.length), length: writer.length };
}
