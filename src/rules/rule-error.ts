import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';

/** Where in a rule document something is: a field path and, when known, its line and column (1-based). */
export interface RulePlace {
  /** `configs[1].parameters.timeout`; empty for the document as a whole. */
  readonly path: string;
  readonly line?: number;
  readonly column?: number;
}

/**
 * A rule document that cannot be used as written. The whole document is refused, never part of it:
 * whoever loads rules keeps the rule that was in force before and logs this error.
 *
 * ```ts
 * try { parseConditionRouter(text) } catch (error) { if (error instanceof RuleError) log.warn(error.message) }
 * // invalid condition router rule at conditions[0] (line 4, column 5): "=" must be followed by a value
 * ```
 */
export class RuleError extends RpcError {
  /** The field path, as in the message. */
  readonly path: string;
  readonly line: number | undefined;
  readonly column: number | undefined;
  /** What is wrong, without where. */
  readonly problem: string;

  /** @param rule what kind of rule was being read: `'configurator'`, `'condition router'`, `'tag router'`. */
  constructor(rule: string, place: RulePlace, problem: string) {
    const where = place.path === '' ? '' : ` at ${place.path}`;
    const at = place.line === undefined ? '' : ` (line ${place.line}, column ${place.column ?? 1})`;
    super(Code.INVALID_ARGUMENT, `invalid ${rule} rule${where}${at}: ${problem}`, {
      name: 'RuleError',
      details: { rule, path: place.path, ...(place.line === undefined ? {} : { line: place.line, column: place.column ?? 1 }) },
    });
    this.path = place.path;
    this.line = place.line;
    this.column = place.column;
    this.problem = problem;
  }
}
