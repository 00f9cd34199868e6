/**
 * `content-type: application/grpc[+subtype]`. No subtype and `+proto` carry Protobuf messages;
 * any other subtype names a Switchyard serializer (`+msgpack`, `+json`) that carries the
 * argument array of services defined without a `.proto`.
 */

const prefix = 'application/grpc';

export const PROTO_CONTENT_TYPE = prefix;

/**
 * The codec a request or response names: `proto` or a serializer name; undefined when the
 * content type is not gRPC at all (`application/grpc-web` is another protocol).
 */
export function parseContentType(value: string | undefined): string | undefined {
  if (value === undefined || !value.startsWith(prefix)) return undefined;
  if (value.length === prefix.length) return 'proto';
  const rest = value.slice(prefix.length);
  if (rest[0] === ';') return 'proto';
  if (rest[0] !== '+') return undefined;
  const end = rest.indexOf(';');
  const subtype = (end === -1 ? rest.slice(1) : rest.slice(1, end)).trim().toLowerCase();
  return subtype === '' ? undefined : subtype;
}

/** The content type for a codec: Protobuf as plain `application/grpc`, which every peer reads. */
export function contentTypeFor(codec: string): string {
  return codec === 'proto' ? prefix : `${prefix}+${codec}`;
}
