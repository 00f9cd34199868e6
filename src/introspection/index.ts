import type { CallTable } from '../core/call-table.js';
import type { Interceptor } from '../core/invocation.js';
import { HealthService } from '../transport/grpc/health.js';
import { healthService } from './health-service.js';
import { IntrospectionService, introspectionService } from './introspection-service.js';
import type { ServerHealth } from './server-health.js';

export { ServerHealth, type HealthSnapshot, type NotReadyReason } from './server-health.js';
export { healthService } from './health-service.js';
export { IntrospectionService, introspectionService, type Introspection, type MethodDescription, type ServiceDescription } from './introspection-service.js';
export { HealthService, type Health, type HealthStatus } from '../transport/grpc/health.js';

/** Ids of the services every server provides by itself. */
export const builtinServiceIds: readonly string[] = [HealthService.id, IntrospectionService.id];

/**
 * Provides the built-in services in a server's call table: `grpc.health.v1.Health` answering from
 * `health`, and `switchyard.Introspection`. Health calls pass no interceptors, so that a load
 * balancer's probe needs no credentials beyond what the server's gate asks; `describe` passes
 * `interceptors`, like the user's services. A service the user has already provided under one of
 * these ids is kept, and one provided later takes a built-in's place.
 *
 * ```ts
 * const health = new ServerHealth();
 * provideBuiltins(table, health, interceptors);
 * ```
 */
export function provideBuiltins(table: CallTable, health: ServerHealth, interceptors: readonly Interceptor[] = []): void {
  const taken = new Set(table.serviceIds);
  if (!taken.has(HealthService.id)) table.provide(HealthService, healthService(table, health), [], { builtin: true });
  if (!taken.has(IntrospectionService.id)) table.provide(IntrospectionService, introspectionService(table), interceptors, { builtin: true });
}
