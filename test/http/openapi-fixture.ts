// The services test/http/openapi-schemas.test.ts describes and calls, and a JSON Schema validator
// for the schemas of the document they get.
import { createRequire } from 'node:module';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { StandardJSONSchemaV1, StandardSchemaV1 } from '@standard-schema/spec';
import * as v from 'valibot';
import { z } from 'zod';
import { defineService, defineServiceFromProto } from '../../src/index.js';
import { rawRequest, startHttpServer } from '../support/http.js';

const Owner = z.object({ name: z.string().min(1), email: z.email().optional() }).meta({ id: 'Owner' });
const Account = z.object({
  id: z.string(),
  owner: Owner,
  balance: z.bigint(),
  openedAt: z.date(),
  photo: z.instanceof(Uint8Array).optional(),
  labels: z.set(z.string()),
});
const Entry = z.object({ amount: z.number().int(), at: z.date() });
interface Folder {
  name: string;
  children: Folder[];
}
const FolderSchema: z.ZodType<Folder> = z.object({ name: z.string(), get children() { return z.array(FolderSchema); } });

/** A schema whose library offers a JSON Schema that fails to convert: described as any JSON. */
const unconvertible: StandardSchemaV1<string> & StandardJSONSchemaV1<string> = {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate: (value) => (typeof value === 'string' ? { value } : { issues: [{ message: 'not a string' }] }),
    jsonSchema: {
      input: () => { throw new Error('no JSON Schema for this one'); },
      output: () => { throw new Error('no JSON Schema for this one'); },
    },
  },
};

export interface Ledger {
  open(owner: z.output<typeof Owner>, deposit: bigint, note?: string): Promise<z.output<typeof Account>>;
  close(id: string): Promise<boolean>;
  rename(id: string, name: string): Promise<string>;
  history(id: string, limit?: number): AsyncIterable<z.output<typeof Entry>>;
  deposit(entries: AsyncIterable<z.output<typeof Entry>>): Promise<{ count: number; total: number }>;
  folders(): Promise<Folder>;
  legacy(text: string): Promise<number>;
  opaque(text: string): Promise<string>;
  forget(id: string): Promise<void>;
}

export const LedgerService = defineService<Ledger>('demo.Ledger', {
  version: '2.0.0',
  methods: {
    open: { args: [Owner, z.bigint(), z.string().optional()], result: Account, checkResult: true },
    close: { args: [z.string().min(1)], result: z.boolean() },
    rename: { args: [z.string().min(1), z.string().min(1)], result: z.string(), http: { method: 'PUT', path: '/accounts/{id}/name', params: ['id', 'name'] } },
    history: { args: [z.string(), z.number().int().positive().optional()], result: Entry, stream: 'server', resumable: { idOf: (entry: z.output<typeof Entry>) => entry.at.getTime() } },
    deposit: { args: [Entry], result: z.object({ count: z.number().int(), total: z.number() }), stream: 'client' },
    folders: { args: [], result: FolderSchema },
    legacy: { args: [v.string()], result: v.number() },
    opaque: { args: [unconvertible], result: z.string() },
    forget: { args: [z.string()], oneWay: true },
  },
});

const at = (day: number) => new Date(Date.UTC(2024, 1, day, 12, 0, 0, 0));

export const ledger: Ledger = {
  async open(owner, deposit, note) {
    return { id: `acct-${owner.name}${note ? `-${note}` : ''}`, owner, balance: deposit, openedAt: at(29), photo: new Uint8Array([1, 2, 3]), labels: new Set(['new']) };
  },
  async close(id) {
    return id.length > 0;
  },
  async rename(id, name) {
    return `${id} is now ${name}`;
  },
  async *history(_id, limit = 3) {
    for (let day = 1; day <= limit; day++) yield { amount: day * 10, at: at(day) };
  },
  async deposit(entries) {
    let count = 0;
    let total = 0;
    for await (const entry of entries) {
      count++;
      total += entry.amount;
    }
    return { count, total };
  },
  async folders() {
    return { name: 'root', children: [{ name: 'a', children: [] }, { name: 'b', children: [{ name: 'c', children: [] }] }] };
  },
  async legacy(text) {
    return text.length;
  },
  async opaque(text) {
    return text;
  },
  async forget() {},
};

export const InventoryService = defineServiceFromProto<Record<string, (...args: never[]) => unknown>>(
  fileURLToPath(new URL('./openapi.proto', import.meta.url)), 'test.openapi.Inventory');

/** An Item in the form a handler returns it (every field present, as the codec decodes one). */
export function item(id: bigint): Record<string, unknown> {
  const empty = { id: 0n, title: '', kind: 'KIND_UNSPECIFIED', tags: [], stock: {}, price: null, updatedAt: null, shelfLife: null, views: null, note: null, attributes: null,
    thumbnail: new Uint8Array(0), variants: [], priceByQuantity: {}, weight: 0, ratio: 0, available: false, parent: null, shelf: 0 };
  return {
    ...empty,
    id,
    title: 'A book',
    kind: 'BOOK',
    tags: ['paper'],
    stock: { north: 3n, south: -1n },
    price: { cents: 1999n, currency: 'EUR' },
    inline: { data: new Uint8Array([7, 8]) },
    source: 'inline',
    updatedAt: { seconds: 1_709_210_096n, nanos: 789_000_000 },
    shelfLife: { seconds: 86_400n, nanos: 0 },
    views: { value: 2n ** 60n },
    note: { value: 'signed' },
    attributes: { fields: { pages: { numberValue: 320, kind: 'numberValue' }, tags: { listValue: { values: [{ stringValue: 'x', kind: 'stringValue' }] }, kind: 'listValue' } } },
    thumbnail: new Uint8Array([9]),
    variants: [{ sku: 'hb', shade: 'DARK' }],
    priceByQuantity: { 10: { cents: 1500n, currency: 'EUR' } },
    weight: Number.NaN,
    ratio: 0.5,
    available: true,
    parent: { ...empty, id: 1n },
  };
}

export const inventory = {
  async getItem(request: { id: bigint }) {
    return item(request.id);
  },
  async *watch(request: { id: bigint }) {
    yield item(request.id);
    yield item(request.id + 1n);
  },
  async upload(items: AsyncIterable<unknown>) {
    let count = 0n;
    for await (const _ of items) count++;
    return { count };
  },
  async ping() {
    return {};
  },
};

export interface DescribedServer {
  address: string;
  doc: OpenApiDoc;
}

export interface OpenApiDoc {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; responses: Record<string, { content: { 'application/json': { schema: Schema } } }>; parameters: Record<string, Schema>; securitySchemes: Record<string, Schema> };
  security: unknown[];
}

export interface Operation {
  operationId: string;
  parameters: Array<{ $ref?: string; name?: string; in?: string; required?: boolean; description?: string; schema?: Schema; content?: Record<string, { schema: Schema }> }>;
  requestBody?: { required: boolean; content: Record<string, { schema: Schema }> };
  responses: Record<string, { $ref?: string; content?: Record<string, { schema: Schema; 'x-event-schema'?: Schema }> }>;
}

export type Schema = Record<string, unknown>;

/** The Calculator (plain methods), the Ledger (zod schemas) and the Inventory (.proto) over http, with the document they are described by. */
export async function startDescribedServer(t: TestContext): Promise<DescribedServer> {
  const { address } = await startHttpServer(t, {
    setup: (server) => {
      server.provide(LedgerService, ledger);
      server.provide(InventoryService, inventory);
    },
  });
  const res = await rawRequest(address, 'GET', '/openapi.json');
  if (res.status !== 200) throw new Error(`GET /openapi.json answered ${res.status}`);
  return { address, doc: res.json as OpenApiDoc };
}

type Validate = ((data: unknown) => boolean) & { errors?: unknown[] | null };
interface Ajv {
  addSchema(schema: object, key: string): void;
  compile(schema: object): Validate;
  validateSchema(schema: object): boolean;
  errors?: unknown[] | null;
}

const DOC = 'https://switchyard.test/openapi.json';

export interface SchemaValidator {
  /** Whether `value` matches the schema at `path` in the document. */
  matches(value: unknown, ...path: string[]): boolean;
  /** Throws, saying why, unless `value` matches the schema at `path`. */
  check(value: unknown, ...path: string[]): void;
  /**
   * What is wrong with the schemas of the document: each component schema and each schema of an
   * operation must be a valid JSON Schema 2020-12 whose references all resolve.
   */
  problems(): string[];
}

/**
 * Validates values against schemas of `doc`, found by their path in it. ajv 8 (JSON Schema 2020-12)
 * is here as a dependency of @seriousme/openapi-schema-validator, and loaded as that package loads it.
 */
export function schemaValidator(doc: OpenApiDoc): SchemaValidator {
  const load = createRequire(import.meta.resolve('@seriousme/openapi-schema-validator'));
  const Ajv2020 = (load('ajv/dist/2020.js') as { default: new (options: object) => Ajv }).default;
  const addFormats = (load('ajv-formats') as { default: (ajv: Ajv) => void }).default;
  const ajv = new Ajv2020({ strict: false, allErrors: true, logger: false });
  addFormats(ajv);
  ajv.addSchema(doc, DOC);
  const compiled = new Map<string, Validate>();
  const validatorAt = (path: string[]): Validate => {
    const pointer = path.map((segment) => `/${encodeURIComponent(segment.replaceAll('~', '~0').replaceAll('/', '~1'))}`).join('');
    let validate = compiled.get(pointer);
    if (validate === undefined) compiled.set(pointer, (validate = ajv.compile({ $ref: `${DOC}#${pointer}` })));
    return validate;
  };
  return {
    problems() {
      const problems: string[] = [];
      for (const path of schemaPaths(doc)) {
        const schema = path.reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], doc) as object;
        if (!ajv.validateSchema(schema)) problems.push(`${path.join(' › ')}: ${JSON.stringify(ajv.errors)}`);
        try {
          validatorAt(path);
        } catch (error) {
          problems.push(`${path.join(' › ')}: ${(error as Error).message}`);
        }
      }
      return problems;
    },
    matches: (value, ...path) => validatorAt(path)(value),
    check(value, ...path) {
      const validate = validatorAt(path);
      if (!validate(value)) throw new Error(`${JSON.stringify(value)} does not match ${path.join(' › ')}: ${JSON.stringify(validate.errors)}`);
    },
  };
}

/** The paths of every schema in the document: the components', and those under `schema` and `x-event-schema` keys. */
function schemaPaths(doc: OpenApiDoc): string[][] {
  const found = Object.keys(doc.components.schemas).map((name) => ['components', 'schemas', name]);
  const walk = (node: unknown, path: string[]): void => {
    if (typeof node !== 'object' || node === null) return;
    for (const [key, value] of Object.entries(node)) {
      if (key === 'schema' || key === 'x-event-schema') found.push([...path, key]);
      else walk(value, [...path, key]);
    }
  };
  walk(doc.paths, ['paths']);
  walk({ responses: doc.components.responses, parameters: doc.components.parameters }, ['components']);
  return found;
}
