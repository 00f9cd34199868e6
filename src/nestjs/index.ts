/**
 * `switchyard/nestjs`: Switchyard in NestJS applications (docs/nestjs.md). The only entry point
 * that loads `@nestjs/common`, `@nestjs/microservices` and `rxjs`, optional peers of the package.
 */
export { SwitchyardTransport, type SwitchyardTransportOptions, type SwitchyardStatus } from './transport.js';
export { SwitchyardMethod, switchyardPattern, SWITCHYARD_TRANSPORT, type SwitchyardPattern } from './pattern.js';
export { SwitchyardContext } from './context.js';
export { SwitchyardExceptionFilter, type SwitchyardExceptionFilterOptions } from './exception-filter.js';
export { toRpcError, codeOfHttpStatus } from './errors.js';
export { SwitchyardModule, switchyardToken, SWITCHYARD_CLIENT, type SwitchyardModuleOptions, type SwitchyardModuleAsyncOptions, type SwitchyardServiceEntry } from './module.js';
