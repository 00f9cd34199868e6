/**
 * jose, loaded on first use: by a server that verifies a JWT or a client that signs one. Servers
 * and clients that never do keep it out of their module graph (measured: with the JWT modules
 * bound to jose statically, the bundled small call spent more time collecting garbage).
 */
export type Jose = typeof import('jose');

let loading: Promise<Jose> | undefined;

export function loadJose(): Promise<Jose> {
  loading ??= import('jose');
  return loading;
}
