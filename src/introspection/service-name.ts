/**
 * Whether a service id (`group/name:version`) answers to `wanted`, given as the full id or as the
 * bare name, the way health checks and `describe` name services.
 *
 * ```ts
 * answersTo('shop/demo.Orders:2', 'demo.Orders'); // true
 * ```
 */
export function answersTo(id: string, wanted: string): boolean {
  if (id === wanted) return true;
  const slash = id.indexOf('/');
  const colon = id.indexOf(':');
  return id.slice(slash + 1, colon === -1 ? undefined : colon) === wanted;
}
