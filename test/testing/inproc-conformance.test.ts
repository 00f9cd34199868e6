import '../../src/testing/index.js';
import { conformanceSuite } from '../../src/conformance/index.js';

/**
 * The conformance table over `inproc://`: the in-process transport runs the TCP protocol's own
 * connection code over connections in memory, so it must pass every row `tcp://` passes, with no
 * exception of its own.
 */
conformanceSuite({ name: 'inproc', listen: 'inproc://conformance:0' });
conformanceSuite({ name: 'inproc with JSON', listen: 'inproc://conformance:0', client: { serializer: 'json' } });
