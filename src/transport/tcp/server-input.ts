import { Code } from '../../core/code.js';
import { InboundStream } from '../../core/inbound-stream.js';
import { RpcError, errorMessage } from '../../core/rpc-error.js';
import type { Serializer } from '../../serialization/serializer.js';
import { INPUT_WINDOW } from './client-input.js';

/**
 * The server's end of a call's request stream: items from STREAM_ITEM frames go to the handler's
 * `AsyncIterable`, and credit goes back as the handler reads. A caller that sends past its credit,
 * or an item that cannot be decoded, fails the call (not the connection).
 */
export class ServerInput {
  readonly stream: InboundStream;
  /** Items the caller may still send. */
  private allowance = INPUT_WINDOW;

  constructor(grant: (count: number) => void) {
    this.stream = new InboundStream((count) => {
      this.allowance += count;
      grant(count);
    }, () => {
      // The handler stopped reading: nothing is granted any more, and the call's end stops the caller.
    });
  }

  /** One item arrived; an `RpcError` when the call must fail because of it. */
  receive(body: Buffer, serializer: Serializer): RpcError | undefined {
    if (this.stream.closed) return undefined;
    if (--this.allowance < 0) {
      return new RpcError(Code.RESOURCE_EXHAUSTED, `the request stream sent more than the ${INPUT_WINDOW} items it was granted`);
    }
    let value: unknown;
    try {
      value = serializer.decode(body);
    } catch (error) {
      return new RpcError(Code.INVALID_ARGUMENT, `cannot decode a request stream item: ${errorMessage(error)}`);
    }
    this.stream.push(value);
    return undefined;
  }

  end(): void {
    this.stream.finish();
  }

  /** The call ended (cancelled, timed out, failed, its connection gone): a handler still reading hears why. */
  fail(reason: RpcError): void {
    this.stream.fail(reason);
  }
}
