/**
 * Copies an error's details into plain data that every serializer can write, without ever throwing.
 * Details come from user code: a getter may throw, a Proxy's trap may throw, a graph may be cyclic
 * or hold functions and class instances. What cannot be read or written as data is left out.
 */

const MAX_DEPTH = 16;
/** Values copied at most, so that a huge details object cannot make an error response huge. */
const MAX_NODES = 1024;

type Budget = { nodes: number };

/** A plain-data copy of `value`'s own enumerable fields, or undefined if it is not a plain record. */
export function plainDetails(value: unknown): Record<string, unknown> | undefined {
  try {
    if (!isPlainObject(value)) return undefined;
    const copy = copyValue(value, 0, { nodes: 0 }, new Set());
    return copy === undefined ? undefined : (copy as Record<string, unknown>);
  } catch {
    return undefined;
  }
}

/** Object.prototype or null as prototype, checked without trusting a Proxy's traps. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  try {
    if (Array.isArray(value)) return false;
    const proto: unknown = Object.getPrototypeOf(value);
    return proto === Object.prototype || proto === null;
  } catch {
    return false;
  }
}

function copyValue(value: unknown, depth: number, budget: Budget, path: Set<object>): unknown {
  if (++budget.nodes > MAX_NODES) return undefined;
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'bigint':
      return value;
    case 'object':
      break;
    default:
      return undefined; // functions, symbols, undefined
  }
  if (value === null) return null;
  if (depth >= MAX_DEPTH || path.has(value)) return undefined;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : new Date(value.getTime());
  if (value instanceof Uint8Array) return Uint8Array.prototype.slice.call(value);
  path.add(value);
  try {
    if (Array.isArray(value)) {
      const items: unknown[] = [];
      for (let i = 0; i < value.length && budget.nodes < MAX_NODES; i++) {
        const item = copyValue(readField(value, i), depth + 1, budget, path);
        items.push(item === undefined ? null : item);
      }
      return items;
    }
    if (!isPlainObject(value)) return undefined;
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      if (budget.nodes >= MAX_NODES) break;
      const item = copyValue(readField(value, key), depth + 1, budget, path);
      // defineProperty, so that a key named __proto__ stays a key and reaches no prototype
      if (item !== undefined) Object.defineProperty(copy, key, { value: item, enumerable: true, writable: true, configurable: true });
    }
    return copy;
  } finally {
    path.delete(value);
  }
}

/** A field's value, or undefined when reading it throws. */
export function readField(target: object, key: string | number): unknown {
  try {
    return (target as Record<string | number, unknown>)[key];
  } catch {
    return undefined;
  }
}
