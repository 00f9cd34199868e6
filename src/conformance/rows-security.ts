import assert from 'node:assert/strict';
import { Code, codeName } from '../core/code.js';
import type { Row } from './fixture.js';
import { rejectionOf } from './fixture.js';
import { uniqueTag } from './probe.js';
import { ConformanceService } from './service.js';

/** Tokens of the row's server: one with the role its policy asks for `receive`, one without. */
const CLERK = 'conformance-clerk-token';
const VISITOR = 'conformance-visitor-token';

export const securityRows: readonly Row[] = [
  {
    name: 'security: no credentials is UNAUTHENTICATED, a token without the role PERMISSION_DENIED, and neither reaches the handler',
    async run({ startPeers, probe }) {
      const { client, service } = await startPeers({
        server: {
          auth: {
            tokens: { [CLERK]: { id: 'clerk', roles: ['clerk'] }, [VISITOR]: { id: 'visitor', roles: ['visitor'] } },
            policy: { [ConformanceService.key.name]: { methods: { receive: { roles: ['clerk'] } } } },
          },
        },
      });
      const anonymous = uniqueTag('anonymous');
      const missing = await rejectionOf(service.receive(anonymous, 1), 'receive without credentials');
      assert.equal(codeName(missing.code), codeName(Code.UNAUTHENTICATED), missing.message);
      const visitor = uniqueTag('visitor');
      const denied = await rejectionOf(service.receive.with({ credentials: VISITOR })(visitor, 1), 'receive with a token lacking the role');
      assert.equal(codeName(denied.code), codeName(Code.PERMISSION_DENIED), denied.message);
      const clerk = uniqueTag('clerk');
      await service.receive.with({ credentials: CLERK })(clerk, 1);
      assert.equal(probe.received.get(clerk), 1, 'the admitted call reached its handler');
      assert.ok(!probe.received.has(anonymous) && !probe.received.has(visitor), 'a refused call ran its handler');
      await client.close({ timeoutMs: 2000 });
    },
  },
];
