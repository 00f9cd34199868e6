// Short fuzz of target `protobuf` (scripts/fuzz/protobuf.ts); `npm run fuzz` runs it for a million inputs.
import { protobufTarget } from '../../scripts/fuzz/protobuf.js';
import { shortRun } from './short-run.js';

shortRun(protobufTarget, { inputs: 1500, propertyRuns: 500 });
