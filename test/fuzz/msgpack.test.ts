// Short fuzz of target `msgpack` (scripts/fuzz/msgpack.ts); `npm run fuzz` runs it for a million inputs.
import { msgpackTarget } from '../../scripts/fuzz/msgpack.js';
import { shortRun } from './short-run.js';

shortRun(msgpackTarget, { inputs: 4000, propertyRuns: 500 });
