import { createRequire } from 'node:module';
import { Code } from '../../../core/code.js';
import { RpcError } from '../../../core/rpc-error.js';

/** One element of a parsed document, its names resolved against the namespaces in scope. */
export interface XmlElement {
  /** Namespace URI, '' for none. */
  readonly ns: string;
  readonly local: string;
  /** Attributes by `{uri}local`, or `local` when not in a namespace; values with references decoded. */
  readonly attributes: ReadonlyMap<string, string>;
  readonly children: XmlElement[];
  /** The character data directly inside the element (CDATA included), joined. */
  text: string;
  /** Prefix → URI in scope here ('' is the default namespace), to resolve QName values such as `xsi:type`. */
  readonly scope: ReadonlyMap<string, string>;
}

/** The most elements one inside another a document may nest; deeper ones are refused while parsing. */
export const MAX_XML_DEPTH = 128;

/** The subset of the `sax` package this module uses (it ships no types). */
interface SaxTag {
  local: string;
  uri: string;
  ns: Record<string, string>;
  attributes: Record<string, { local: string; uri: string; prefix: string; value: string }>;
}
interface SaxParser {
  onopentag: (tag: SaxTag) => void;
  onclosetag: () => void;
  ontext: (text: string) => void;
  oncdata: (text: string) => void;
  ondoctype: () => void;
  onerror: (error: Error) => void;
  write(text: string): SaxParser;
  close(): SaxParser;
}
const sax = createRequire(import.meta.url)('sax') as { parser(strict: boolean, options: { xmlns: boolean; position: boolean }): SaxParser };

/** Characters XML 1.0 cannot hold, even as a reference: controls other than tab, LF and CR, lone surrogates, U+FFFE and U+FFFF. */
// eslint-disable-next-line no-control-regex -- these control characters are what the pattern is for
export const FORBIDDEN_CHARACTERS = /[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Parses an XML document into its root element, refusing with INVALID_ARGUMENT anything that is not
 * one well-formed, namespace-well-formed element: malformed markup, unknown entities, a DTD (and so
 * every entity it could declare: no XML bomb expands here), characters XML cannot hold, and elements
 * nested deeper than `maxDepth`. `sax` reads the text in one loop with a stack of its own, and the
 * tree is built here with one too, so no depth of document recurses on the call stack. Line ends
 * are normalised first, as XML requires, so that a CR survives only as `&#13;`.
 */
export function parseXml(bytes: Uint8Array, maxDepth = MAX_XML_DEPTH): XmlElement {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw invalid('the document is not UTF-8');
  }
  const parser = sax.parser(true, { xmlns: true, position: false });
  const open: XmlElement[] = [];
  let root: XmlElement | undefined;
  parser.onopentag = (tag) => {
    if (root !== undefined && open.length === 0) throw invalid('a document has one root element');
    if (open.length >= maxDepth) throw invalid(`elements are nested deeper than ${maxDepth} levels`);
    const element = elementOf(tag);
    if (open.length === 0) root = element;
    else open[open.length - 1]!.children.push(element);
    open.push(element);
  };
  parser.onclosetag = () => {
    open.pop();
  };
  parser.ontext = parser.oncdata = (data) => {
    const current = open[open.length - 1];
    if (current !== undefined) current.text += data;
  };
  parser.ondoctype = () => {
    throw invalid('a document type declaration (DTD) is not accepted');
  };
  parser.onerror = (error) => {
    throw invalid(error.message.split('\n')[0]!);
  };
  parser.write(text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text).close();
  if (root === undefined) throw invalid('the document has no root element');
  return root;
}

function elementOf(tag: SaxTag): XmlElement {
  const attributes = new Map<string, string>();
  for (const attribute of Object.values(tag.attributes)) {
    if (attribute.prefix === 'xmlns' || (attribute.prefix === '' && attribute.local === 'xmlns')) continue;
    checkText(attribute.value);
    attributes.set(attribute.uri === '' ? attribute.local : `{${attribute.uri}}${attribute.local}`, attribute.value);
  }
  // sax chains each element's bindings to its parent's through the prototype: for-in reads them all.
  const scope = new Map<string, string>();
  for (const prefix in tag.ns) scope.set(prefix, tag.ns[prefix]!);
  return { ns: tag.uri, local: tag.local, attributes, children: [], text: '', scope };
}

/** Refuses text holding characters XML 1.0 has no form for (a reference to one is refused by the parser). */
export function checkText(text: string): void {
  if (FORBIDDEN_CHARACTERS.test(text)) throw invalid('the document holds a character XML 1.0 does not allow');
}

/** The element's text if it holds no child elements, checked. */
export function textOf(element: XmlElement): string {
  checkText(element.text);
  return element.text;
}

/** Resolves a QName value (`xsd:double`) against the element's namespaces: `{uri}local`. */
export function resolveQName(element: XmlElement, qname: string): { ns: string; local: string } {
  const colon = qname.indexOf(':');
  const prefix = colon < 0 ? '' : qname.slice(0, colon);
  const local = colon < 0 ? qname : qname.slice(colon + 1);
  const ns = element.scope.get(prefix);
  if (ns === undefined && prefix !== '') throw invalid(`the prefix of ${JSON.stringify(qname)} is not declared`);
  return { ns: ns ?? '', local };
}

function invalid(message: string): RpcError {
  return new RpcError(Code.INVALID_ARGUMENT, `malformed XML: ${message}`);
}
