import type { Provider } from '../registry/provider.js';
import type { Condition, ConditionTerm, ConditionValue, KeySource } from './condition-grammar.js';
import { globMatch, globTest } from './glob.js';
import { providerField } from './provider-fields.js';
import { consumerField, metadataText, type RoutingCall } from './routing-call.js';

/**
 * A condition compiled into tests, once per router: each term becomes a small function of its own,
 * so that testing a call does no dispatch on the kind of key or value.
 *
 * What a condition's terms are compared with: a term on a value that is absent never holds, with `=`
 * or `!=` (as in Dubbo). An argument past the last one, or one that is not a string, number, boolean
 * or null, is `MISSING`: it matches only `*`, so `arguments[1] != vip` holds for a call with one
 * argument (Dubbo compares a placeholder text there).
 */
export interface CompiledCondition {
  /** Whether the call is one the when part describes. */
  readonly when: (call: RoutingCall) => boolean;
  /** Whether the then part keeps the provider; null for an empty then part, which keeps none. */
  readonly then: ((provider: Provider, call: RoutingCall) => boolean) | null;
}

const MISSING = null;
type Sample = string | undefined | typeof MISSING;
type TermTest = (value: Sample, call: RoutingCall) => boolean;
type ValueTest = (value: string, call: RoutingCall) => boolean;

export function compileCondition(condition: Condition): CompiledCondition {
  const when = condition.when.map((term) => {
    const read = callReader(term.source);
    const test = termTest(term);
    return (call: RoutingCall) => test(read(call), call);
  });
  const then = condition.then?.map((term) => {
    const key = term.key;
    const test = termTest(term);
    return (provider: Provider, call: RoutingCall) => test(providerField(provider, key), call);
  });
  return {
    when: (call) => {
      for (let i = 0; i < when.length; i++) if (!when[i]!(call)) return false;
      return true;
    },
    then: then === undefined ? null : (provider, call) => {
      for (let i = 0; i < then.length; i++) if (!then[i]!(provider, call)) return false;
      return true;
    },
  };
}

function callReader(source: KeySource): (call: RoutingCall) => Sample {
  switch (source.kind) {
    case 'method':
      return (call) => call.method;
    case 'argument': {
      const index = source.index;
      return (call) => (call.args !== undefined && index < call.args.length ? argumentText(call.args[index]) : MISSING);
    }
    case 'attachment': {
      const name = source.name;
      return (call) => metadataText(call, name);
    }
    case 'field': {
      const name = source.name;
      return (call) => consumerField(call, name);
    }
  }
}

/** An argument as Dubbo's `String.valueOf` would write it; MISSING for values it would write as an object's identity. */
function argumentText(value: unknown): Sample {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'undefined':
      return 'null';
    case 'object':
      return value === null ? 'null' : MISSING;
    default:
      return MISSING;
  }
}

/** None of the `!=` values, and one of the `=` values when there are any. */
function termTest(term: ConditionTerm): TermTest {
  const matches = term.matches.map(valueTest);
  const mismatches = term.mismatches.map(valueTest);
  const isAny = (value: ConditionValue) => value.kind === 'glob' && value.glob.kind === 'any';
  const missingHolds = !term.mismatches.some(isAny) && (matches.length === 0 || term.matches.some(isAny));
  return (value, call) => {
    if (value === undefined) return false;
    if (value === MISSING) return missingHolds;
    for (let i = 0; i < mismatches.length; i++) if (mismatches[i]!(value, call)) return false;
    if (matches.length === 0) return true;
    for (let i = 0; i < matches.length; i++) if (matches[i]!(value, call)) return true;
    return false;
  };
}

function valueTest(pattern: ConditionValue): ValueTest {
  switch (pattern.kind) {
    case 'range': {
      const { min, max } = pattern;
      return (value) => {
        const number = wholeNumber(value);
        return number >= min && number <= max;
      };
    }
    case 'reference': {
      // As Dubbo: the consumer's value is itself a glob, and an absent one is empty text.
      const key = pattern.key;
      return (value, call) => globMatch(consumerField(call, key) ?? '', value);
    }
    case 'glob':
      return globTest(pattern.glob);
  }
}

/** The value of text made of 1 to 15 decimal digits; NaN for anything else. */
function wholeNumber(text: string): number {
  if (text.length === 0 || text.length > 15) return NaN;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return NaN;
  }
  return Number(text);
}
