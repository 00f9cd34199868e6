/*
 * Standard Schemas written by hand for the schema rows, so that the conformance module (shipped in
 * the package) depends on no schema library: a Standard Schema is an object whose
 * `~standard.validate` answers `{ value }` or `{ issues }`, at once or as a promise.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';

/** A point of the schema rows. */
export interface Point {
  x: number;
  y: number;
}

/** An item of `checkedTotal`'s request stream: `index` may arrive as a numeric string. */
export interface IndexItem {
  index: number;
}

type Answer<Output> = StandardSchemaV1.Result<Output> | Promise<StandardSchemaV1.Result<Output>>;

function schema<Output>(validate: (value: unknown) => Answer<Output>): StandardSchemaV1<unknown, Output> {
  return { '~standard': { version: 1, vendor: 'switchyard-conformance', validate } };
}

const issue = (message: string, ...path: PropertyKey[]): StandardSchemaV1.FailureResult => ({ issues: [{ message, path }] });

/** A string, answered synchronously. */
export const tagSchema = schema<string>((value) => (typeof value === 'string' ? { value } : issue('expected a string')));

/** `{ x, y }` of finite numbers, each wrong field an issue of its own; other fields are dropped. */
export const pointSchema = schema<Point>((value) => {
  if (typeof value !== 'object' || value === null) return issue('expected an object');
  const { x, y } = value as Record<string, unknown>;
  const issues: StandardSchemaV1.Issue[] = [];
  if (typeof x !== 'number' || !Number.isFinite(x)) issues.push({ message: 'expected a number', path: ['x'] });
  if (typeof y !== 'number' || !Number.isFinite(y)) issues.push({ message: 'expected a number', path: [{ key: 'y' }] });
  return issues.length > 0 ? { issues } : { value: { x: x as number, y: y as number } };
});

/** A non-blank string, trimmed and lower-cased; answered as a promise, as a schema with async checks is. */
export const labelSchema = schema<string>(async (value) => {
  await Promise.resolve();
  if (typeof value !== 'string' || value.trim() === '') return issue('expected a non-blank string');
  return { value: value.trim().toLowerCase() };
});

/** An optional positive number, 1 when it is left out. */
export const scaleSchema = schema<number>((value) => {
  if (value === undefined || value === null) return { value: 1 };
  return typeof value === 'number' && value > 0 ? { value } : issue('expected a positive number');
});

/** Any number; for results. */
export const numberSchema = schema<number>((value) => (typeof value === 'number' ? { value } : issue('expected a number')));

/** `{ index }` with a whole number, or a string of digits that becomes one. */
export const indexItemSchema = schema<IndexItem>((value) => {
  const index: unknown = typeof value === 'object' && value !== null ? (value as Record<string, unknown>).index : undefined;
  if (typeof index === 'number' && Number.isInteger(index)) return { value: { index } };
  if (typeof index === 'string' && /^\d+$/.test(index)) return { value: { index: Number(index) } };
  return issue('expected a whole number', 'index');
});
