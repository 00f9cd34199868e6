import type { MethodEntry } from '../../../core/call-table.js';
import type { ServiceDefinition } from '../../../core/service.js';
import { escapeXml } from '../xml/encode.js';
import { methodXmlTypes } from '../xml/method-types.js';
import { SY, XSD } from '../xml/namespaces.js';
import { encodeName } from '../xml/names.js';
import { ANY } from '../xml/xml-type.js';
import { SOAP11, SOAP12 } from './envelope.js';
import { elementDeclaration } from './xsd.js';

const WSDL = 'http://schemas.xmlsoap.org/wsdl/';
const WSDL_SOAP11 = 'http://schemas.xmlsoap.org/wsdl/soap/';
const WSDL_SOAP12 = 'http://schemas.xmlsoap.org/wsdl/soap12/';
const HTTP_TRANSPORT = 'http://schemas.xmlsoap.org/soap/http';

/** The namespace of a service's operation elements: `urn:switchyard:<service name>`. */
export function targetNamespace(service: ServiceDefinition): string {
  return `urn:switchyard:${service.key.name}`;
}

/** The SOAPAction (1.1) and `action` (1.2) of an operation, as the WSDL declares it; the server reads the operation from the body. */
export function soapAction(service: ServiceDefinition, method: string): string {
  return `${targetNamespace(service)}#${method}`;
}

/** Methods served over SOAP: the unary ones (streams have no form in a SOAP exchange). */
export function soapMethods(entries: readonly MethodEntry[]): MethodEntry[] {
  return entries.filter((entry) => entry.options.stream === undefined);
}

/**
 * A WSDL 1.1 document of one service, document/literal wrapped, with a SOAP 1.1 and a SOAP 1.2
 * binding at `location`. Each method is an operation whose input element `<{method}>` holds the
 * arguments as `arg0…argN` and whose output `<{method}Response>` holds the result as `return`
 * (JAX-WS's names), typed from the method's schemas as XSD; a method without schemas takes any
 * elements and returns `xsd:anyType`. One-way methods have no output. Every operation may fail with
 * the fault `sy:error` (docs/soap.md).
 */
export function wsdlDocument(service: ServiceDefinition, entries: readonly MethodEntry[], location: string): string {
  const tns = targetNamespace(service);
  const name = encodeName(service.key.name);
  const methods = soapMethods(entries);
  const elements: string[] = [];
  const messages: string[] = [];
  const operations: string[] = [];
  const bindings = { '1.1': [] as string[], '1.2': [] as string[] };
  for (const entry of methods) {
    const op = encodeName(entry.method);
    const types = methodXmlTypes(entry);
    const oneWay = entry.options.oneWay === true;
    const params = types.params === undefined
      ? '<xsd:any minOccurs="0" maxOccurs="unbounded" processContents="lax"/>'
      : types.params.map((type, i) => elementDeclaration(`arg${i}`, type, types.optional[i] === true ? ' minOccurs="0"' : '')).join('');
    elements.push(`<xsd:element name="${op}"><xsd:complexType><xsd:sequence>${params}</xsd:sequence></xsd:complexType></xsd:element>`);
    messages.push(`<wsdl:message name="${op}Request"><wsdl:part name="parameters" element="tns:${op}"/></wsdl:message>`);
    let output = '';
    if (!oneWay) {
      const result = elementDeclaration('return', types.result ?? ANY, types.mayReturnNothing ? ' minOccurs="0"' : '');
      elements.push(`<xsd:element name="${op}Response"><xsd:complexType><xsd:sequence>${result}</xsd:sequence></xsd:complexType></xsd:element>`);
      messages.push(`<wsdl:message name="${op}Response"><wsdl:part name="parameters" element="tns:${op}Response"/></wsdl:message>`);
      output = `<wsdl:output message="tns:${op}Response"/><wsdl:fault name="error" message="tns:error"/>`;
    }
    operations.push(`<wsdl:operation name="${op}"><wsdl:input message="tns:${op}Request"/>${output}</wsdl:operation>`);
    for (const [version, prefix] of [['1.1', 'soap'], ['1.2', 'soap12']] as const) {
      const out = oneWay ? '' : `<wsdl:output><${prefix}:body use="literal"/></wsdl:output><wsdl:fault name="error"><${prefix}:fault name="error" use="literal"/></wsdl:fault>`;
      bindings[version].push(`<wsdl:operation name="${op}"><${prefix}:operation soapAction="${escapeXml(soapAction(service, entry.method), true)}" style="document"/><wsdl:input><${prefix}:body use="literal"/></wsdl:input>${out}</wsdl:operation>`);
    }
  }
  const address = escapeXml(location, true);
  return `<?xml version="1.0" encoding="UTF-8"?>
<wsdl:definitions name="${name}" targetNamespace="${escapeXml(tns, true)}" xmlns:wsdl="${WSDL}" xmlns:soap="${WSDL_SOAP11}" xmlns:soap12="${WSDL_SOAP12}" xmlns:xsd="${XSD}" xmlns:sy="${SY}" xmlns:tns="${escapeXml(tns, true)}">
<wsdl:types>
<xsd:schema targetNamespace="${escapeXml(tns, true)}" elementFormDefault="unqualified">${elements.join('')}</xsd:schema>
<xsd:schema targetNamespace="${SY}" elementFormDefault="unqualified"><xsd:element name="error"><xsd:complexType><xsd:sequence><xsd:element name="code" type="xsd:string"/><xsd:element name="name" type="xsd:string"/><xsd:element name="message" type="xsd:string"/><xsd:element name="details" type="xsd:anyType" minOccurs="0"/></xsd:sequence></xsd:complexType></xsd:element></xsd:schema>
</wsdl:types>
<wsdl:message name="error"><wsdl:part name="error" element="sy:error"/></wsdl:message>
${messages.join('\n')}
<wsdl:portType name="${name}PortType">${operations.join('')}</wsdl:portType>
<wsdl:binding name="${name}Soap11" type="tns:${name}PortType"><soap:binding style="document" transport="${HTTP_TRANSPORT}"/>${bindings['1.1'].join('')}</wsdl:binding>
<wsdl:binding name="${name}Soap12" type="tns:${name}PortType"><soap12:binding style="document" transport="${HTTP_TRANSPORT}"/>${bindings['1.2'].join('')}</wsdl:binding>
<wsdl:service name="${name}"><wsdl:port name="${name}Soap11" binding="tns:${name}Soap11"><soap:address location="${address}"/></wsdl:port><wsdl:port name="${name}Soap12" binding="tns:${name}Soap12"><soap12:address location="${address}"/></wsdl:port></wsdl:service>
</wsdl:definitions>
`;
}

/** The envelope namespaces, for readers of this module's documents. */
export const SOAP_NAMESPACES = { soap11: SOAP11.ns, soap12: SOAP12.ns, wsdl: WSDL, wsdlSoap11: WSDL_SOAP11, wsdlSoap12: WSDL_SOAP12 };
