export { startAdmin, parseAdminUrl, isLoopback } from './listener.js';
export { AdminService, type AdminEndpoint } from './auth.js';
export type { AdminHealth, AdminListener, AdminOptions, AdminSources, AdminStartOptions } from './sources.js';
