import { ConnectionRecord } from '../connection-record.js';
import type { Exchange } from './exchange.js';

/**
 * An open connection of the HTTP server, with the exchanges it has not finished answering (one,
 * unless pipelined). Each exchange holds its connection, so that finishing one finds it without a
 * lookup.
 */
export class HttpConnection extends ConnectionRecord {
  readonly exchanges: Exchange[] = [];
  /** An answer went out with `connection: close`: requests read after it are not served. */
  closing = false;

  forget(exchange: Exchange): void {
    const { exchanges } = this;
    if (exchanges[0] === exchange) {
      exchanges.shift();
      return;
    }
    const at = exchanges.indexOf(exchange);
    if (at >= 0) exchanges.splice(at, 1);
  }
}
