import { conformanceServiceIds, conformanceSuite, type ConformanceTransport } from '../../src/conformance/index.js';
import { BrokerScope, ensureRabbitMQ } from '../support/rabbitmq.js';

/**
 * The conformance table on every transport. A new transport passes by adding its line here;
 * what it cannot do goes in its `exceptions`, with the reason, and shows as skipped.
 */

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
      streams: 'AMQP carries calls and casts, not server streams: the server refuses a streaming method with UNIMPLEMENTED (src/transport/amqp/server.ts)',
      'handler mistakes: a streaming method returning a non-iterable fails, naming the method': 'AMQP carries no server streams: the method is refused with UNIMPLEMENTED before its handler runs',
      'bad input: an unknown service is NOT_FOUND': 'no queue is bound for a service no server provides: the broker returns the request and the call fails UNAVAILABLE at once (docs/amqp.md, Errors)',
    },
  };
}

const transports: ConformanceTransport[] = [
  { name: 'tcp', listen: 'tcp://127.0.0.1:0' },
  // The JSON column of the values table on a transport that defaults to MessagePack.
  { name: 'tcp with JSON', listen: 'tcp://127.0.0.1:0', client: { serializer: 'json' } },
  { name: 'http', listen: 'http://127.0.0.1:0', values: 'json' },
  {
    name: 'grpc',
    listen: 'grpc://127.0.0.1:0',
    exceptions: {
      'errors: details keep bigints, dates and bytes': 'details travel as a google.protobuf.Struct any gRPC peer reads, which has no bigints, dates or bytes: they arrive as decimal text, ISO 8601 text and base64 (docs/grpc.md, Errors)',
    },
  },
  amqp(),
];

for (const transport of transports) conformanceSuite(transport);
