/**
 * What a request's `reply_to` names, read before a server publishes a reply to it.
 *
 * Publishing to any queue name through the default exchange is harmless: at worst no queue has
 * that name and the reply is dropped. A direct reply-to name is different: the broker decodes it,
 * and RabbitMQ closes the whole publishing connection (541 INTERNAL_ERROR) when it cannot, when the
 * node it names is not one of the cluster's, or when the pid's numbers are out of range. The broker
 * issues these names as `amq.rabbitmq.reply-to.<pid>.<key>`: `<pid>` is the base64 of an Erlang pid
 * in the external term format (131, PID_EXT or NEW_PID_EXT, the node as an atom, then id, serial
 * and creation) and `<key>` a base64 secret. A name not of that form is refused here; a name of
 * that form is still unproven until the broker has taken a reply to it (see ReplyPublisher).
 */

export const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';
const PREFIX = `${DIRECT_REPLY_TO}.`;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

const VERSION = 131;
const PID_EXT = 103;
const NEW_PID_EXT = 88;
const ATOM_EXT = 100;
const ATOM_UTF8_EXT = 118;
const SMALL_ATOM_EXT = 115;
const SMALL_ATOM_UTF8_EXT = 119;

/** A queue name, a name the broker could not have issued, or a direct reply-to name of the issued form. */
export type ReplyAddress = 'queue' | 'malformed' | 'direct';

/** Whether publishing to `address` can be refused by the broker at all: a direct reply-to name. */
export function isDirectReplyTo(address: string): boolean {
  return address.startsWith(DIRECT_REPLY_TO);
}

/**
 * Reads a reply address. With `strict` off (the broker's own names did not read as expected, see
 * ReplyPublisher), any direct reply-to name with a pid part and a key part counts as of the issued form.
 */
export function readReplyAddress(address: string, strict: boolean): ReplyAddress {
  // A routing key is a short string; amqplib would refuse to publish to a longer one.
  if (address.length === 0 || Buffer.byteLength(address) > 255) return 'malformed';
  if (!isDirectReplyTo(address)) return 'queue';
  if (!address.startsWith(PREFIX)) return 'malformed';
  const rest = address.slice(PREFIX.length);
  const dot = rest.indexOf('.');
  if (dot <= 0 || dot === rest.length - 1 || rest.includes('.', dot + 1)) return 'malformed';
  if (!strict) return 'direct';
  const pid = rest.slice(0, dot);
  if (pid.length % 4 !== 0 || !BASE64.test(pid) || !BASE64.test(rest.slice(dot + 1))) return 'malformed';
  return isPid(Buffer.from(pid, 'base64')) ? 'direct' : 'malformed';
}

/** Whether `term` is exactly one Erlang pid in the external term format, on a node named `name@host`. */
function isPid(term: Buffer): boolean {
  if (term.length < 4 || term[0] !== VERSION) return false;
  const tag = term[1];
  if (tag !== PID_EXT && tag !== NEW_PID_EXT) return false;
  let start: number;
  let length: number;
  switch (term[2]) {
    case ATOM_EXT:
    case ATOM_UTF8_EXT:
      if (term.length < 5) return false;
      length = term.readUInt16BE(3);
      start = 5;
      break;
    case SMALL_ATOM_EXT:
    case SMALL_ATOM_UTF8_EXT:
      length = term[3]!;
      start = 4;
      break;
    default:
      return false;
  }
  const end = start + length;
  // id and serial (4 bytes each), then creation: 1 byte in PID_EXT, 4 in NEW_PID_EXT.
  if (term.length !== end + 8 + (tag === PID_EXT ? 1 : 4)) return false;
  return term.toString('latin1', start, end).includes('@');
}
