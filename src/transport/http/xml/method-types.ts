import type { MethodEntry } from '../../../core/call-table.js';
import { componentOf, SchemaComponents, type Schema } from '../openapi-components.js';
import { methodShape } from '../openapi-operation.js';
import { ProtoSchemas } from '../openapi-proto.js';
import { ANY, type XmlField, type XmlType } from './xml-type.js';

/** What a method's schemas (or `.proto` messages) say of its values, as XML types. */
export interface MethodXmlTypes {
  /** One type per parameter; undefined when the method has no schemas (it takes anything). */
  readonly params: readonly XmlType[] | undefined;
  readonly optional: readonly boolean[];
  readonly result: XmlType;
  readonly mayReturnNothing: boolean;
}

const cache = new WeakMap<MethodEntry, MethodXmlTypes>();

/**
 * The XML types of a method, worked out once per provided method from the JSON Schema its schemas
 * convert to (openapi-schemas.ts): so the WSDL and the OpenAPI document describe the same values.
 * A conversion that fails gives `any`, as it gives any JSON in the OpenAPI document.
 */
export function methodXmlTypes(entry: MethodEntry): MethodXmlTypes {
  let types = cache.get(entry);
  if (types === undefined) cache.set(entry, (types = convert(entry)));
  return types;
}

function convert(entry: MethodEntry): MethodXmlTypes {
  const components = new SchemaComponents();
  try {
    const shape = methodShape(entry, components, new ProtoSchemas(components));
    const reader = new SchemaReader(components);
    return {
      params: shape.params?.map((schema) => reader.read(schema)),
      optional: shape.optional,
      result: reader.read(shape.result),
      mayReturnNothing: shape.mayReturnNothing,
    };
  } catch {
    return { params: undefined, optional: [], result: ANY, mayReturnNothing: true };
  }
}

const BUILTINS: Record<string, XmlType> = {
  'switchyard.BigInt': { kind: 'bigint' },
  'switchyard.Date': { kind: 'date' },
  'switchyard.Bytes': { kind: 'bytes' },
  'switchyard.Number': { kind: 'number' },
};

/** JSON Schema (as openapi-schemas.ts gives it) to XML types; a component referred to again is the same type object, so cycles hold. */
class SchemaReader {
  private readonly named = new Map<string, XmlType>();

  constructor(private readonly components: SchemaComponents) {}

  read(schema: Schema): XmlType {
    const name = componentOf(schema);
    if (name !== undefined) return BUILTINS[name] ?? this.component(name, schema);
    const choices = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
    if (Array.isArray(choices)) return this.choice(choices);
    const type = schema.type;
    if (Array.isArray(type)) {
      const others = type.filter((t) => t !== 'null');
      return others.length === 1 ? nullable(this.read({ ...schema, type: others[0] }), others.length < type.length) : ANY;
    }
    switch (type) {
      case 'string':
        return { kind: 'string' };
      case 'number':
        return { kind: 'number' };
      case 'integer':
        return { kind: 'integer' };
      case 'boolean':
        return { kind: 'boolean' };
      case 'null':
        return { kind: 'null' };
      case 'array':
        return this.array(schema);
      case 'object':
        return this.object(schema);
    }
    const values = (schema.enum as unknown[] | undefined) ?? ('const' in schema ? [schema.const] : undefined);
    if (Array.isArray(values) && values.length > 0) {
      if (values.every((v) => typeof v === 'string')) return { kind: 'string' };
      if (values.every((v) => typeof v === 'number')) return { kind: 'number' };
      if (values.every((v) => typeof v === 'boolean')) return { kind: 'boolean' };
    }
    return ANY;
  }

  private component(name: string, schema: Schema): XmlType {
    const known = this.named.get(name);
    if (known !== undefined) return known;
    const target = this.components.resolve(schema);
    if (target === schema) return ANY;
    // Objects and arrays are filled in after they are named, so that a schema may hold itself.
    if (target.type === 'object' && target.properties !== undefined) {
      const fields = new Map<string, XmlField>();
      const type: XmlType = { kind: 'object', fields };
      this.named.set(name, type);
      this.fields(target, fields);
      return type;
    }
    this.named.set(name, ANY);
    const type = this.read(target);
    this.named.set(name, type);
    return type;
  }

  /** A choice with null is that type, nullable; a choice of a number and its tagged specials is a number; else anything. */
  private choice(choices: Schema[]): XmlType {
    const isNull = (s: Schema) => s.type === 'null';
    const others = choices.filter((s) => !isNull(s) && componentOf(s) !== 'switchyard.Undefined');
    const types = others.map((s) => this.read(s));
    const kinds = new Set(types.map((t) => t.kind));
    if (kinds.size === 1 && (types.length === 1 || kinds.has('number') || kinds.has('string'))) return nullable(types[0]!, others.length < choices.length);
    return ANY;
  }

  private array(schema: Schema): XmlType {
    const prefix = Array.isArray(schema.prefixItems) ? (schema.prefixItems as Schema[]).map((s) => this.read(s)) : undefined;
    const items = schema.items;
    const item = typeof items === 'object' && items !== null ? this.read(items as Schema) : ANY;
    return prefix === undefined ? { kind: 'array', item } : { kind: 'array', item, prefix };
  }

  private object(schema: Schema): XmlType {
    if (schema.properties === undefined) return ANY;
    const fields = new Map<string, XmlField>();
    this.fields(schema, fields);
    return { kind: 'object', fields };
  }

  private fields(schema: Schema, fields: Map<string, XmlField>): void {
    const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
    for (const [key, value] of Object.entries((schema.properties ?? {}) as Record<string, Schema>)) {
      fields.set(key, { type: this.read(value), required: required.has(key) });
    }
  }
}

function nullable(type: XmlType, isNullable: boolean): XmlType {
  return isNullable && type.nullable !== true ? { ...type, nullable: true } : type;
}
