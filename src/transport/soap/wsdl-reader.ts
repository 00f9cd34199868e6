import { Code } from '../../core/code.js';
import { RpcError } from '../../core/rpc-error.js';
import { SOAP11, SOAP12, type SoapVersion } from '../http/soap/envelope.js';
import { SOAP_NAMESPACES } from '../http/soap/wsdl.js';
import { XSD } from '../http/xml/namespaces.js';
import { decodeName } from '../http/xml/names.js';
import { parseXml, resolveQName, type XmlElement } from '../http/xml/tree.js';
import { ANY, type ScalarKind, type XmlField, type XmlType } from '../http/xml/xml-type.js';

/** One operation of a WSDL, as a document/literal wrapped call needs it. */
export interface SoapOperation {
  readonly name: string;
  readonly action: string;
  /** The input element: the arguments are its children, named `params[i].name` (or `arg<i>` past the declared ones). */
  readonly request: { readonly ns: string; readonly local: string; readonly qualified: boolean; readonly params: readonly WrappedField[] };
  /** The output element's children; undefined for a one-way operation. */
  readonly response: { readonly fields: readonly WrappedField[] } | undefined;
}

/** A child of a wrapper element; `repeated` when it may occur more than once (its value is then an array of them). */
export interface WrappedField {
  readonly name: string;
  readonly type: XmlType;
  readonly repeated: boolean;
}

/** The port a client sends to, with its operations by name. */
export interface SoapPort {
  readonly version: SoapVersion;
  readonly location: string;
  readonly operations: ReadonlyMap<string, SoapOperation>;
}

const { wsdl: WSDL, wsdlSoap11: WSDL_SOAP11, wsdlSoap12: WSDL_SOAP12 } = SOAP_NAMESPACES;

/**
 * Reads a WSDL 1.1 document (document/literal, as Switchyard and most SOAP stacks write them) into
 * the port of the wanted SOAP version (or any, if it has none of that version). Schemas give the
 * XML types of arguments and results; what the reader does not know (imports, extensions) is `any`.
 */
export function readWsdl(bytes: Uint8Array, wanted: '1.1' | '1.2'): SoapPort {
  const root = parseXml(bytes);
  if (root.local !== 'definitions' || root.ns !== WSDL) throw invalid('the document is not a WSDL 1.1 definitions element');
  const schemas = new SchemaIndex(childrenOf(childrenOf(root, WSDL, 'types')[0], XSD, 'schema'));
  const messages = new Map<string, string | undefined>();
  for (const message of childrenOf(root, WSDL, 'message')) {
    const part = childrenOf(message, WSDL, 'part')[0];
    const element = part?.attributes.get('element');
    messages.set(`{${root.attributes.get('targetNamespace') ?? ''}}${message.attributes.get('name')}`, element === undefined ? undefined : qnameKey(part!, element));
  }
  const portTypes = new Map<string, XmlElement>();
  for (const portType of childrenOf(root, WSDL, 'portType')) portTypes.set(`{${root.attributes.get('targetNamespace') ?? ''}}${portType.attributes.get('name')}`, portType);
  const ports: SoapPort[] = [];
  for (const service of childrenOf(root, WSDL, 'service')) {
    for (const port of childrenOf(service, WSDL, 'port')) {
      const binding = childrenOf(root, WSDL, 'binding').find((each) => `{${root.attributes.get('targetNamespace') ?? ''}}${each.attributes.get('name')}` === qnameKey(port, port.attributes.get('binding') ?? ''));
      const soap = binding?.children.find((child) => child.local === 'binding' && (child.ns === WSDL_SOAP11 || child.ns === WSDL_SOAP12));
      const address = port.children.find((child) => child.local === 'address' && (child.ns === WSDL_SOAP11 || child.ns === WSDL_SOAP12));
      const portType = binding === undefined ? undefined : portTypes.get(qnameKey(binding, binding.attributes.get('type') ?? ''));
      if (soap === undefined || address === undefined || portType === undefined) continue;
      const operations = new Map<string, SoapOperation>();
      for (const operation of childrenOf(portType, WSDL, 'operation')) {
        const name = operation.attributes.get('name') ?? '';
        const bound = childrenOf(binding!, WSDL, 'operation').find((each) => each.attributes.get('name') === name);
        const action = bound?.children.find((child) => child.local === 'operation')?.attributes.get('soapAction') ?? '';
        const input = childrenOf(operation, WSDL, 'input')[0];
        const output = childrenOf(operation, WSDL, 'output')[0];
        const requestElement = input === undefined ? undefined : messages.get(qnameKey(input, input.attributes.get('message') ?? ''));
        const responseElement = output === undefined ? undefined : messages.get(qnameKey(output, output.attributes.get('message') ?? ''));
        if (requestElement === undefined) continue;
        const request = schemas.wrapper(requestElement);
        operations.set(name, {
          name,
          action,
          request: { ns: request.ns, local: request.local, qualified: request.qualified, params: request.fields },
          response: responseElement === undefined ? undefined : { fields: schemas.wrapper(responseElement).fields },
        });
      }
      ports.push({ version: soap.ns === WSDL_SOAP12 ? SOAP12 : SOAP11, location: address.attributes.get('location') ?? '', operations });
    }
  }
  const port = ports.find((each) => each.version.name === wanted) ?? ports[0];
  if (port === undefined) throw invalid('the WSDL has no SOAP port');
  return port;
}

const BUILTIN_KINDS: Record<string, ScalarKind> = {
  string: 'string', normalizedString: 'string', token: 'string', anyURI: 'string', QName: 'string', NCName: 'string', language: 'string',
  double: 'number', float: 'number', decimal: 'number',
  long: 'integer', int: 'integer', short: 'integer', byte: 'integer', unsignedLong: 'integer', unsignedInt: 'integer', unsignedShort: 'integer', unsignedByte: 'integer',
  integer: 'bigint', nonNegativeInteger: 'bigint', positiveInteger: 'bigint', nonPositiveInteger: 'bigint', negativeInteger: 'bigint',
  boolean: 'boolean', dateTime: 'date', base64Binary: 'bytes', anyType: 'any',
};

/** The top-level elements and named types of a WSDL's schemas, read into XML types on demand. */
class SchemaIndex {
  private readonly elements = new Map<string, { element: XmlElement; qualified: boolean }>();
  private readonly types = new Map<string, XmlElement>();
  private readonly read = new Map<XmlElement, XmlType>();

  constructor(schemas: readonly XmlElement[]) {
    for (const schema of schemas) {
      const tns = schema.attributes.get('targetNamespace') ?? '';
      const qualified = schema.attributes.get('elementFormDefault') === 'qualified';
      for (const child of schema.children) {
        const name = child.attributes.get('name');
        if (child.ns !== XSD || name === undefined) continue;
        if (child.local === 'element') this.elements.set(`{${tns}}${name}`, { element: child, qualified });
        else if (child.local === 'complexType' || child.local === 'simpleType') this.types.set(`{${tns}}${name}`, child);
      }
    }
  }

  /** A wrapper element (`{ns}local`) and its children, in order. */
  wrapper(key: string): { ns: string; local: string; qualified: boolean; fields: WrappedField[] } {
    const found = this.elements.get(key);
    const [, ns = '', local = ''] = /^\{(.*)\}(.*)$/.exec(key) ?? [];
    if (found === undefined) return { ns, local, qualified: false, fields: [] };
    const type = this.typeOfElement(found.element);
    const fields = type.kind === 'object' ? [...type.fields].map(([name, field]) => ({ name, type: field.type, repeated: field.repeated === true })) : [];
    return { ns, local, qualified: found.qualified, fields };
  }

  private typeOfElement(element: XmlElement): XmlType {
    const ref = element.attributes.get('ref');
    if (ref !== undefined) {
      const target = this.elements.get(qnameKey(element, ref));
      return target === undefined ? ANY : this.typeOfElement(target.element);
    }
    const type = element.attributes.get('type');
    if (type !== undefined) return this.named(element, type);
    const inline = element.children.find((child) => child.ns === XSD && (child.local === 'complexType' || child.local === 'simpleType'));
    const nillable = element.attributes.get('nillable') === 'true';
    const read = inline === undefined ? ANY : this.typeOfDefinition(inline);
    return nillable ? { ...read, nullable: true } : read;
  }

  private named(at: XmlElement, qname: string): XmlType {
    const { ns, local } = resolveQName(at, qname);
    if (ns === XSD) return { kind: BUILTIN_KINDS[local] ?? 'string' };
    const definition = this.types.get(`{${ns}}${local}`);
    return definition === undefined ? ANY : this.typeOfDefinition(definition);
  }

  /** A complex type's sequence (or `all`) as an object; a simple type as its restriction's base. The same definition is one type, so cycles hold. */
  private typeOfDefinition(definition: XmlElement): XmlType {
    const known = this.read.get(definition);
    if (known !== undefined) return known;
    if (definition.local === 'simpleType') {
      const base = definition.children.find((child) => child.local === 'restriction')?.attributes.get('base');
      const type = base === undefined ? ANY : this.named(definition.children.find((child) => child.local === 'restriction')!, base);
      this.read.set(definition, type);
      return type;
    }
    const group = definition.children.find((child) => child.ns === XSD && (child.local === 'sequence' || child.local === 'all'));
    const declared = group?.children.filter((child) => child.ns === XSD && child.local === 'element') ?? [];
    if (group === undefined || declared.length === 0) {
      this.read.set(definition, ANY);
      return ANY;
    }
    const fields = new Map<string, XmlField>();
    const type: XmlType = { kind: 'object', fields };
    this.read.set(definition, type);
    for (const element of declared) {
      const name = element.attributes.get('name') ?? element.attributes.get('ref')?.replace(/^.*:/, '') ?? '';
      const max = element.attributes.get('maxOccurs');
      fields.set(decodeName(name), {
        type: this.typeOfElement(element),
        required: element.attributes.get('minOccurs') !== '0',
        repeated: max !== undefined && max !== '0' && max !== '1',
      });
    }
    return type;
  }
}

function childrenOf(parent: XmlElement | undefined, ns: string, local: string): XmlElement[] {
  return parent?.children.filter((child) => child.ns === ns && child.local === local) ?? [];
}

function qnameKey(at: XmlElement, qname: string): string {
  const { ns, local } = resolveQName(at, qname);
  return `{${ns}}${local}`;
}

function invalid(message: string): RpcError {
  return new RpcError(Code.INVALID_ARGUMENT, `cannot read the WSDL: ${message}`);
}
