// The web console of `switchyard console` (docs/console.md): loaded only by that command.
export { startConsole, type ConsoleOptions, type ConsoleServer } from './console-server.js';
export { CHANGE_HEADER } from './access.js';
