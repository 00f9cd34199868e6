import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { withOwnMetadata } from '../core/client-call.js';
import { Code, codeName } from '../core/code.js';
import type { ClientObserver, ServerObserver } from '../core/observer.js';
import { HealthService } from '../transport/grpc/health.js';
import type { Row } from './fixture.js';
import { rejectionOf } from './fixture.js';
import { uniqueTag } from './probe.js';
import { ConformanceService } from './service.js';

/** What the row's server observer saw of one call, by the `traceparent` its attempt carried. */
interface Observed {
  method: string;
  code?: string;
  requestBytes?: number;
  responseBytes?: number;
}

export const observabilityRows: readonly Row[] = [
  {
    name: 'observability: grpc.health.v1.Health answers SERVING for the server and its services, NOT_FOUND for a service it lacks',
    async run({ client }) {
      const health = client.proxy(HealthService);
      assert.deepEqual(await health.check({ service: '' }), { status: 'SERVING' });
      assert.deepEqual(await health.check({ service: ConformanceService.key.name }), { status: 'SERVING' });
      const unknown = await rejectionOf(health.check({ service: 'conformance.NoSuchService' }), 'a health check of a service the server lacks');
      assert.equal(codeName(unknown.code), codeName(Code.NOT_FOUND), unknown.message);
    },
  },
  {
    name: 'observability: what an attempt adds to its metadata (a traceparent) reaches the server, whose observer sees the call end with its code and sizes',
    async run({ startPeers }) {
      const seen = new Map<string, Observed>();
      const server: ServerObserver = {
        serverCall(entry, call) {
          const traceparent = call.metadata.get('traceparent');
          if (typeof traceparent !== 'string') return undefined;
          const observed: Observed = { method: entry.method };
          seen.set(traceparent, observed);
          return {
            end(error) {
              observed.code = codeName(error?.code ?? Code.OK);
              observed.requestBytes = call.requestBytes;
              observed.responseBytes = call.responseBytes;
            },
          };
        },
      };
      const sent: string[] = [];
      const client: ClientObserver = {
        clientCall: () => undefined,
        attempt(call) {
          const copy = withOwnMetadata(call);
          const traceparent = `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
          copy.metadata.set('traceparent', traceparent);
          sent.push(traceparent);
          return { call: copy, end: () => {} };
        },
      };
      const peers = await startPeers({ server: { observers: [server] }, client: { observers: [client] } });
      await peers.service.receive(uniqueTag('observed'), 'payload');
      await rejectionOf(peers.service.fail('rpc-error'), 'fail');
      assert.equal(sent.length, 2, 'one attempt per call');
      const [ok, failed] = sent.map((traceparent) => seen.get(traceparent));
      assert.equal(ok?.method, 'receive', 'the first attempt\'s traceparent reached the server');
      assert.equal(ok.code, 'OK');
      assert.ok((ok.requestBytes ?? 0) > 0, `the transport told the size of the arguments: ${ok.requestBytes}`);
      assert.equal(failed?.method, 'fail', 'the second attempt carried its own traceparent');
      assert.equal(failed.code, 'FAILED_PRECONDITION');
      await peers.client.close({ timeoutMs: 2000 });
    },
  },
];
