// Short fuzz of target `http` (scripts/fuzz/http.ts); `npm run fuzz` runs it for a million inputs.
import { httpTarget } from '../../scripts/fuzz/http.js';
import { shortRun } from './short-run.js';

shortRun(httpTarget, { inputs: 4000, propertyRuns: 500 });
