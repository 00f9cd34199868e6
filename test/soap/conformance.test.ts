import { conformanceSuite } from '../../src/conformance/index.js';
import { registerTransport } from '../../src/transport/registry.js';
import { soapTransport } from '../../src/transport/soap/factory.js';

registerTransport('soap', soapTransport);

const NO_STREAMS = 'a SOAP exchange is one envelope each way: streaming methods are not operations of the WSDL, and soap:// fails them UNIMPLEMENTED before anything is sent (docs/soap.md, Calls)';

/**
 * The conformance table over soap://, against the SOAP endpoints of an http:// server: an address
 * without a path reaches each service at /soap/<name> through its WSDL. The services have no
 * schemas, so every value travels with its xsi:type: this is the XML mapping's line of the table.
 */
conformanceSuite({
  name: 'soap',
  listen: 'http://127.0.0.1:0',
  clientUrl: (bound) => bound.replace(/^http:/, 'soap:'),
  values: 'json',
  exceptions: {
    streams: NO_STREAMS,
    'client streams': NO_STREAMS,
    'bidi streams': NO_STREAMS,
    'handler mistakes: a streaming method returning a non-iterable fails, naming the method': NO_STREAMS,
  },
});
