// Short fuzz of target `tcp-frame` (scripts/fuzz/tcp-frame.ts); `npm run fuzz` runs it for a million inputs.
import { tcpFrameTarget } from '../../scripts/fuzz/tcp-frame.js';
import { shortRun } from './short-run.js';

shortRun(tcpFrameTarget, { inputs: 5000, propertyRuns: 500 });
