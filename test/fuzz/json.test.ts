// Short fuzz of target `json` (scripts/fuzz/json.ts); `npm run fuzz` runs it for a million inputs.
import { jsonTarget } from '../../scripts/fuzz/json.js';
import { shortRun } from './short-run.js';

shortRun(jsonTarget, { inputs: 4000, propertyRuns: 500 });
