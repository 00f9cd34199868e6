/**
 * What a value's element is expected to hold, from a method's schemas (or a WSDL's XSD): it types
 * elements that carry no `xsi:type`, as other SOAP stacks send them (`<arg0>1</arg0>` for a number),
 * and is what a WSDL describes. `any` reads an element as Switchyard's untyped rule says
 * (docs/http.md, "XML"): text is a string, children an object.
 */
export type XmlType =
  | { readonly kind: ScalarKind; readonly nullable?: boolean }
  | { readonly kind: 'array'; readonly item: XmlType; readonly prefix?: readonly XmlType[]; readonly nullable?: boolean }
  | { readonly kind: 'object'; readonly fields: ReadonlyMap<string, XmlField>; readonly nullable?: boolean };

/** Kinds of values held as the text of one element. */
export type ScalarKind = 'any' | 'string' | 'number' | 'integer' | 'bigint' | 'boolean' | 'date' | 'bytes' | 'null';

export interface XmlField {
  readonly type: XmlType;
  readonly required: boolean;
  /** The field is an array written as the field's element repeated (`maxOccurs="unbounded"` in a foreign WSDL). */
  readonly repeated?: boolean;
}

export const ANY: XmlType = { kind: 'any' };
