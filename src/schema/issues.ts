/*
 * The problems a schema found, as plain data. Issues come from schema libraries, whose issue
 * objects hold more than the standard says (zod keeps the input value on them, for one): only the
 * message and the path are copied, so nothing of the value checked leaks into an error, and the
 * copy survives every serializer (MessagePack, JSON, a gRPC Struct, AMQP).
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';

/** One problem a schema found in an argument, a stream item or a result. */
export interface SchemaIssue {
  /** What the schema said, e.g. `Invalid input: expected number, received string`. */
  readonly message: string;
  /**
   * Where the problem is. For arguments, the index of the argument first, then the keys inside
   * it (`[0, 'address', 'zip']`); for a stream item, the keys inside the item.
   */
  readonly path: ReadonlyArray<string | number>;
}

/** The `details` of an error a schema refused something with. */
export interface SchemaIssueDetails {
  /** The issues, at most `MAX_ISSUES` of them. */
  readonly issues: readonly SchemaIssue[];
  /** How many issues were left out beyond `MAX_ISSUES`; absent when none were. */
  readonly moreIssues?: number;
  /** For a stream item, its position in the stream, from 0. */
  readonly item?: number;
}

/** Issues kept in an error, so that a large refused value cannot make a large error. */
export const MAX_ISSUES = 32;

/** Issues collected across the arguments of a call, with the count of those left out. */
export interface IssueList {
  readonly issues: SchemaIssue[];
  more: number;
}

/**
 * Adds `found` (what a schema's `validate` reported) to `list`, each path starting with `prefix`
 * when there is one (the argument's index). Never throws, whatever the library put in its issues.
 */
export function collectIssues(found: unknown, prefix: number | undefined, list: IssueList = { issues: [], more: 0 }): IssueList {
  const issues: readonly unknown[] = Array.isArray(found) ? found : [];
  if (issues.length === 0) {
    add(list, { message: 'the schema refused the value', path: prefix === undefined ? [] : [prefix] });
    return list;
  }
  for (const issue of issues) add(list, plainIssue(issue, prefix));
  return list;
}

function add(list: IssueList, issue: SchemaIssue): void {
  if (list.issues.length < MAX_ISSUES) list.issues.push(issue);
  else list.more++;
}

function plainIssue(issue: unknown, prefix: number | undefined): SchemaIssue {
  const path: Array<string | number> = prefix === undefined ? [] : [prefix];
  let message = 'invalid value';
  try {
    const { message: said, path: where } = issue as Partial<StandardSchemaV1.Issue>;
    if (typeof said === 'string') message = said;
    if (Array.isArray(where)) for (const segment of where as unknown[]) path.push(plainKey(segment));
  } catch {
    // an issue whose getters throw keeps what was read of it
  }
  return { message, path };
}

/** A path segment as a string or number: a `{ key }` segment unwrapped, a symbol by its description. */
function plainKey(segment: unknown): string | number {
  const key = typeof segment === 'object' && segment !== null ? (segment as StandardSchemaV1.PathSegment).key : segment;
  if (typeof key === 'number' || typeof key === 'string') return key;
  if (typeof key === 'symbol') return key.toString();
  return String(key);
}

/** The details of an error made from `list`. */
export function issueDetails(list: IssueList, item?: number): SchemaIssueDetails {
  const details: { issues: SchemaIssue[]; moreIssues?: number; item?: number } = { issues: list.issues };
  if (list.more > 0) details.moreIssues = list.more;
  if (item !== undefined) details.item = item;
  return details;
}

/**
 * The first issue for a message, its path written from `root` like an access in code:
 * `args[0].address.zip: Invalid input`, followed by how many more there are.
 */
export function describeIssues(list: IssueList, root: string, pathHasIndex: boolean): string {
  const [first] = list.issues;
  if (first === undefined) return 'the schema refused the value';
  let where = root;
  first.path.forEach((segment, position) => {
    where += typeof segment === 'number' || (position === 0 && pathHasIndex) ? `[${String(segment)}]` : `.${segment}`;
  });
  const others = list.issues.length - 1 + list.more;
  return `${where}: ${first.message}${others > 0 ? ` (and ${others} more ${others === 1 ? 'issue' : 'issues'})` : ''}`;
}

/**
 * The issues in an error's details, when a schema refused the call: for a caller that shows them
 * next to the fields of a form, say. Undefined for any other error.
 *
 * ```ts
 * catch (error) {
 *   for (const { path, message } of schemaIssuesOf(error) ?? []) show(path, message);
 * }
 * ```
 */
export function schemaIssuesOf(error: unknown): SchemaIssue[] | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const details: unknown = (error as { details?: unknown }).details;
  if (typeof details !== 'object' || details === null) return undefined;
  const issues: unknown = (details as { issues?: unknown }).issues;
  if (!Array.isArray(issues)) return undefined;
  const plain: SchemaIssue[] = [];
  for (const issue of issues as unknown[]) {
    if (typeof issue !== 'object' || issue === null) continue;
    const { message, path } = issue as { message?: unknown; path?: unknown };
    if (typeof message !== 'string') continue;
    const segments = Array.isArray(path) ? (path as unknown[]).filter((key): key is string | number => typeof key === 'string' || typeof key === 'number') : [];
    plain.push({ message, path: segments });
  }
  return plain;
}
