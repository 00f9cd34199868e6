// Short fuzz of target `grpc-message` (scripts/fuzz/grpc-message.ts); `npm run fuzz` runs it for a million inputs.
import { grpcMessageTarget } from '../../scripts/fuzz/grpc-message.js';
import { shortRun } from './short-run.js';

shortRun(grpcMessageTarget, { inputs: 4000, propertyRuns: 500 });
