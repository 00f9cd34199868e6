// Dependency injection with standard decorators; the awilix adapter is its own entry (switchyard/awilix).
export { Provide, providedServices } from './provide.js';
export { Reference, type ReferenceFieldOptions } from './reference-field.js';
export { Inject } from './inject-field.js';
export { createContainer, Container, type ContainerOptions, type RegisterOptions } from './container.js';
export type { EndpointOptions } from './endpoints.js';
export type { Constructor } from './construction.js';
