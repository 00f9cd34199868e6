import { Code, codeName } from '../../../core/code.js';
import { RpcError, toWireError } from '../../../core/rpc-error.js';
import { decodeElement } from './decode.js';
import { encodeElement, escapeXml } from './encode.js';
import { FORBIDDEN_CHARACTERS, type XmlElement } from './tree.js';

const codesByName = new Map<string, Code>(Object.entries(Code).map(([name, code]) => [name, code]));
const forbidden = new RegExp(FORBIDDEN_CHARACTERS.source, 'g');

/**
 * A failed call as XML, the same fields as the JSON error body: `<{name}><code>NOT_FOUND</code>
 * <name>…</name><message>…</message><details xsi:type="sy:object">…</details></{name}>`. Never
 * throws: characters XML cannot hold become U+FFFD, and details XML cannot carry are left out.
 */
export function errorElement(error: RpcError, name: string, attributes = ''): string {
  const wire = toWireError(error);
  let details: string;
  try {
    details = encodeElement('details', wire.details ?? {});
  } catch {
    details = encodeElement('details', {});
  }
  return `<${name}${attributes}><code>${codeName(wire.code)}</code><name>${safeText(wire.name)}</name><message>${safeText(wire.message)}</message>${details}</${name}>`;
}

/** Text for XML whatever it holds. */
export function safeText(text: string): string {
  return escapeXml(text.replace(forbidden, '\ufffd'));
}

/** The error an element written by `errorElement` describes, or undefined if it is not one. */
export function errorFromElement(element: XmlElement): RpcError | undefined {
  const field = (local: string) => element.children.find((child) => child.local === local);
  const code = codesByName.get(field('code')?.text.trim() ?? '');
  if (code === undefined || code === Code.OK) return undefined;
  let details: unknown;
  try {
    const found = field('details');
    details = found === undefined ? undefined : decodeElement(found);
  } catch {
    details = undefined;
  }
  const name = field('name')?.text;
  return new RpcError(code, field('message')?.text ?? '', {
    name: name !== undefined && name.length > 0 ? name : 'RpcError',
    details: typeof details === 'object' && details !== null && !Array.isArray(details) ? (details as Record<string, unknown>) : undefined,
  });
}
