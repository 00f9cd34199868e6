import { encodeName } from '../xml/names.js';
import type { XmlType } from '../xml/xml-type.js';

const SIMPLE: Partial<Record<XmlType['kind'], string>> = {
  any: 'xsd:anyType',
  null: 'xsd:anyType',
  string: 'xsd:string',
  number: 'xsd:double',
  integer: 'xsd:long',
  bigint: 'xsd:integer',
  boolean: 'xsd:boolean',
  date: 'xsd:dateTime',
  bytes: 'xsd:base64Binary',
};

/**
 * The XSD element declaration of a value: a built-in type for scalars (a number is `xsd:double`,
 * an integer schema `xsd:long`, a bigint `xsd:integer`), an inline complex type for objects (their
 * fields in order, `minOccurs="0"` unless required) and arrays (`<item>` repeated). A type met again
 * inside itself is `xsd:anyType` there, so a schema that refers to itself still has a finite XSD.
 */
export function elementDeclaration(name: string, type: XmlType, occurs = '', within: XmlType[] = []): string {
  const nillable = type.nullable === true || type.kind === 'null' ? ' nillable="true"' : '';
  const head = `<xsd:element name="${name}"${occurs}${nillable}`;
  const simple = SIMPLE[type.kind];
  if (simple !== undefined || within.includes(type)) return `${head} type="${simple ?? 'xsd:anyType'}"/>`;
  const inner = [...within, type];
  let sequence: string;
  if (type.kind === 'array') {
    const item = type.prefix !== undefined && type.prefix.some((each) => each !== type.item) ? { kind: 'any' as const } : type.item;
    sequence = elementDeclaration('item', item, ' minOccurs="0" maxOccurs="unbounded"', inner);
  } else if (type.kind === 'object') {
    sequence = [...type.fields].map(([key, field]) => elementDeclaration(encodeName(key), field.type, field.required ? '' : ' minOccurs="0"', inner)).join('');
  } else {
    sequence = '';
  }
  return `${head}><xsd:complexType><xsd:sequence>${sequence}</xsd:sequence></xsd:complexType></xsd:element>`;
}
