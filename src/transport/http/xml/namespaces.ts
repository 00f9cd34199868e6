/** The namespaces of the XML value mapping (docs/http.md, "XML"). */
export const XSI = 'http://www.w3.org/2001/XMLSchema-instance';
export const XSD = 'http://www.w3.org/2001/XMLSchema';
/** Switchyard's own value types (`sy:array`, `sy:object`, …) and its error element. */
export const SY = 'urn:switchyard';

/** The declarations a document written by Switchyard puts on its root element. */
export const ROOT_DECLARATIONS = ` xmlns:xsi="${XSI}" xmlns:xsd="${XSD}" xmlns:sy="${SY}"`;
