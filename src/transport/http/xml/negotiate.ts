/**
 * Content negotiation between JSON and XML: which request bodies are XML, and whether an `Accept`
 * header prefers XML answers. SOAP's `application/soap+xml` is not plain XML: it is served at the
 * SOAP endpoint (soap/endpoint.ts).
 */
const xmlBody = /^(?:application|text)\/xml\s*(?:;|$)/i;

export const XML_CONTENT_TYPE = 'application/xml; charset=utf-8';

export function isXmlBody(contentType: string | undefined): boolean {
  return contentType !== undefined && xmlBody.test(contentType.trim());
}

/**
 * Whether the answer should be XML: `Accept` weighs `application/xml` (or `text/xml`) above
 * `application/json`, by quality then by how specific the range is (`application/xml` over
 * `application/*` over `*\/*`). A tie, or an `Accept` that names neither, answers in the request
 * body's own form (JSON when there is none).
 */
export function prefersXml(accept: string | undefined, bodyIsXml: boolean): boolean {
  if (accept === undefined || (!bodyIsXml && !accept.includes('xml'))) return bodyIsXml;
  let json = { q: 0, specificity: -1 };
  let xml = { q: 0, specificity: -1 };
  for (const range of accept.split(',')) {
    const [type = '', ...params] = range.split(';').map((part) => part.trim().toLowerCase());
    const qParam = params.find((param) => param.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (!(q >= 0 && q <= 1)) continue;
    const [major, minor] = type.split('/');
    const fits = (wanted: string[]) => {
      if (type === '*/*') return 0;
      if (minor === '*' && wanted.some((each) => each.startsWith(`${major}/`))) return 1;
      return wanted.includes(type) ? 2 : -1;
    };
    const forJson = fits(['application/json']);
    if (forJson > json.specificity) json = { q, specificity: forJson };
    const forXml = fits(['application/xml', 'text/xml']);
    if (forXml > xml.specificity) xml = { q, specificity: forXml };
  }
  if (xml.q !== json.q) return xml.q > json.q;
  return bodyIsXml;
}
