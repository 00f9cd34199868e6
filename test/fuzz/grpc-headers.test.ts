// Short fuzz of target `grpc-headers` (scripts/fuzz/grpc-headers.ts); `npm run fuzz` runs it for a million inputs.
import { grpcHeadersTarget } from '../../scripts/fuzz/grpc-headers.js';
import { shortRun } from './short-run.js';

shortRun(grpcHeadersTarget, { inputs: 4000, propertyRuns: 500 });
