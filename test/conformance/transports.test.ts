import { conformanceServiceIds, conformanceSuite, type ConformanceTransport } from '../../src/conformance/index.js';
import { certificates } from '../support/certs.js';
import { BrokerScope, ensureRabbitMQ, uniqueName } from '../support/rabbitmq.js';
import { startTlsBroker, type TlsBroker } from '../support/rabbitmq-tls.js';

/**
 * The conformance table on every transport. A new transport passes by adding its line here;
 * what it cannot do goes in its `exceptions`, with the reason, and shows as skipped.
 */

/** Server and client options of the tls:// and https:// lines: mutual TLS, so every row also runs with a client certificate. */
function tlsPeers(): Pick<ConformanceTransport, 'server' | 'client'> {
  const certs = certificates();
  return {
    server: { tls: { key: certs.serverKey, cert: certs.serverCert, ca: certs.caCert, requireClientCert: true } },
    client: { tls: { ca: certs.caCert, key: certs.clientKey, cert: certs.clientCert } },
  };
}

/** Each AMQP server gets an exchange of its own, so that the drain row's server shares no queue. */
function amqp(): ConformanceTransport {
  const scopes: BrokerScope[] = [];
  return {
    name: 'amqp',
    listen: () => {
      const scope = new BrokerScope().uses(...conformanceServiceIds);
      scopes.push(scope);
      return scope.url({ server: 'conformance' });
    },
    clientUrl: (_bound, requested) => requested,
    before: ensureRabbitMQ,
    after: async () => {
      for (const scope of scopes) await scope.cleanup();
    },
    exceptions: {
      streams: 'AMQP carries calls and casts, not streams: a streaming method fails UNIMPLEMENTED before anything is published (src/transport/amqp/errors.ts)',
      'client streams': 'AMQP carries calls and casts, not streams: a streaming method fails UNIMPLEMENTED before anything is published (src/transport/amqp/errors.ts)',
      'bidi streams': 'AMQP carries calls and casts, not streams: a streaming method fails UNIMPLEMENTED before anything is published (src/transport/amqp/errors.ts)',
      'handler mistakes: a streaming method returning a non-iterable fails, naming the method': 'AMQP carries no streams: the method is refused with UNIMPLEMENTED before its handler runs',
      'bad input: an unknown service is NOT_FOUND': 'no queue is bound for a service no server provides: the broker returns the request and the call fails UNAVAILABLE at once (docs/amqp.md, Errors)',
    },
  };
}

/**
 * The amqp line over TLS, through a RabbitMQ node of this file's own with a TLS listener that
 * requires client certificates (test/support/rabbitmq-tls.ts): started before the rows, stopped after.
 */
function amqps(): ConformanceTransport {
  const certs = certificates();
  const tls = { ca: certs.caCert, key: certs.clientKey, cert: certs.clientCert };
  let broker: TlsBroker | undefined;
  return {
    name: 'amqps',
    listen: () => broker!.address({ exchange: uniqueName('sy-conformance'), server: 'conformance' }),
    clientUrl: (_bound, requested) => requested,
    server: { tls },
    client: { tls },
    before: async () => {
      broker = await startTlsBroker({ requireClientCert: true });
    },
    after: async () => {
      await broker?.stop();
    },
    exceptions: amqp().exceptions,
  };
}

/** What gRPC peers cannot carry, on grpc:// and grpcs:// alike. */
const grpcExceptions = {
  'errors: details keep bigints, dates and bytes': 'details travel as a google.protobuf.Struct any gRPC peer reads, which has no bigints, dates or bytes: they arrive as decimal text, ISO 8601 text and base64 (docs/grpc.md, Errors)',
};

/** What HTTP/1.1 cannot carry, on http:// and https:// alike. */
const httpExceptions = {
  'bidi streams': 'HTTP/1.1 has no request stream the server can answer while it is still being sent that every client and proxy supports: a bidi method fails UNIMPLEMENTED before anything is sent (docs/http.md, Bidi streams)',
};

const transports: ConformanceTransport[] = [
  { name: 'tcp', listen: 'tcp://127.0.0.1:0' },
  // The JSON column of the values table on a transport that defaults to MessagePack.
  { name: 'tcp with JSON', listen: 'tcp://127.0.0.1:0', client: { serializer: 'json' } },
  { name: 'http', listen: 'http://127.0.0.1:0', values: 'json', exceptions: httpExceptions },
  { name: 'tls', listen: 'tls://127.0.0.1:0', ...tlsPeers() },
  { name: 'https', listen: 'https://127.0.0.1:0', values: 'json', ...tlsPeers(), exceptions: httpExceptions },
  { name: 'grpc', listen: 'grpc://127.0.0.1:0', exceptions: grpcExceptions },
  { name: 'grpcs', listen: 'grpcs://127.0.0.1:0', ...tlsPeers(), exceptions: grpcExceptions },
  amqp(),
  amqps(),
];

for (const transport of transports) conformanceSuite(transport);
