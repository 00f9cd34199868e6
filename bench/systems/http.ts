/** Switchyard over HTTP/1.1 + JSON: `createServer` / `createClient` with `http://` addresses (undici on the client in Node). */
import { switchyardOver } from './switchyard.js';

export const switchyardHttp = switchyardOver('http://127.0.0.1:0');
