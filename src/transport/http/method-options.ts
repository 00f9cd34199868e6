/**
 * The `http` entry of a method's options: serve the method at a verb and path of its own, resource
 * style, besides `POST /<service>/<method>`. It lives in the service definition, as gRPC's
 * `google.api.http` annotation lives in the .proto file, so the same definition still serves every
 * other transport, which ignores it.
 *
 * ```ts
 * defineService<Shop>('demo.Shop', {
 *   methods: { price: { http: { method: 'GET', path: '/items/{item}/price', params: ['item', 'qty'] } } },
 * });
 * ```
 */
export interface HttpRoute {
  /** Default `POST`. */
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Default `/<service name>/<method>`; a `{name}` segment is read into the argument of that name. */
  path?: string;
  /** Names the arguments in order; each is read from the path, else the query, else the JSON body. */
  params?: string[];
}

declare module '../../core/service.js' {
  interface TransportMethodOptions {
    http?: HttpRoute;
  }
}
