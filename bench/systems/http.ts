/** Switchyard over HTTP/1.1 + JSON: `createServer` / `createClient` with `http://` addresses (fetch on the client). */
import { switchyardOver } from './switchyard.js';

export const switchyardHttp = switchyardOver('http://127.0.0.1:0');
