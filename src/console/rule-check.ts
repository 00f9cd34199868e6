import { isMap, isSeq, parseDocument } from 'yaml';
import { errorMessage } from '../core/rpc-error.js';
import type { RuleKind } from '../rules/types.js';
import { parserOf } from './rule-parsers.js';

/** What checking a rule document found. */
export interface RuleCheck {
  readonly ok: boolean;
  /** Why it is refused. */
  readonly message?: string;
  /** `parser`: the rule parsers of src/rules read it as consumers will; `yaml`: only its YAML and shape were checked. */
  readonly checkedBy: 'parser' | 'yaml';
}

/**
 * Checks a rule document before the console writes it: with the parser consumers use when there is
 * one, else as YAML of the kind's shape (a mapping; `conditions`, `tags` or `configs` a list).
 */
export async function checkRule(kind: RuleKind, text: string): Promise<RuleCheck> {
  const parse = await parserOf(kind);
  if (parse !== undefined) {
    try {
      parse(text);
      return { ok: true, checkedBy: 'parser' };
    } catch (error) {
      return { ok: false, message: errorMessage(error), checkedBy: 'parser' };
    }
  }
  const message = shapeProblem(kind, text);
  return message === undefined ? { ok: true, checkedBy: 'yaml' } : { ok: false, message, checkedBy: 'yaml' };
}

const listField: Record<RuleKind, string> = { 'configurators': 'configs', 'condition-router': 'conditions', 'tag-router': 'tags' };

function shapeProblem(kind: RuleKind, text: string): string | undefined {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) return `not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`;
  if (!isMap(doc.contents)) return 'a rule is a YAML mapping';
  const field = listField[kind];
  const list = doc.get(field, true);
  if (!isSeq(list) || list.items.length === 0) return `a ${kind} document needs a non-empty list "${field}"`;
  return undefined;
}
