import { beforeSending } from '../../core/call-watch.js';
import { Code } from '../../core/code.js';
import type { Invocation } from '../../core/invocation.js';
import { RpcError, errorMessage } from '../../core/rpc-error.js';
import { methodSerializer } from '../../serialization/serializer.js';
import type { ChannelOptions } from '../registry.js';
import type { Channel, ChannelInfo, ChannelState } from '../transport.js';
import { sendModeOf } from './call-options.js';
import { noStreams } from './errors.js';
import { BrokerLink } from './link.js';
import { contentTypeOf, ContentTypes } from './message.js';
import { parseAmqpAddress, type AmqpAddress } from './options.js';
import { ClientSession, type Outgoing } from './client-session.js';
import { routeOf, topicOf } from './topology.js';

/**
 * The client side of an `amqp://` address: one broker connection (replaced by itself when lost)
 * whose confirm channel publishes every request and receives every reply through direct reply-to.
 * An `amqps://` address is the same over TLS, trusting and presenting what `options.tls` says.
 */
export class AmqpChannel implements Channel {
  private readonly target: AmqpAddress;
  private readonly link: BrokerLink<ClientSession>;
  private readonly contentTypes: ContentTypes;
  private closing: Promise<void> | undefined;
  /** Checked topics by service id, so a call does not check its topic again. */
  private readonly topics = new Map<string, string>();
  /** Calls sent through the channel. */
  private calls = 0;

  constructor(
    readonly address: string,
    private readonly options: ChannelOptions,
  ) {
    this.target = parseAmqpAddress(address, Math.max(1, Math.ceil(options.heartbeatIntervalMs / 1000)), options.tls);
    this.contentTypes = new ContentTypes(options.serializers);
    this.link = new BrokerLink(
      { url: this.target.brokerUrl, tls: this.target.tls, connectionName: `switchyard client ${this.target.display}`, connectTimeoutMs: options.connectTimeoutMs, backoff: options.backoff, logger: options.logger },
      {
        open: (model) => ClientSession.open(model, this.target, this.contentTypes, options),
        lost: (session, reason) => session.fail(reason),
      },
    );
  }

  get state(): ChannelState {
    return this.closing === undefined ? this.link.state : 'SHUTDOWN';
  }

  get draining(): boolean {
    return this.closing !== undefined;
  }

  call(invocation: Invocation, serviceId: string): Promise<unknown> {
    this.calls++;
    let request: Outgoing;
    try {
      request = this.prepare(invocation, serviceId);
    } catch (error) {
      return Promise.reject(RpcError.from(error, Code.INVALID_ARGUMENT));
    }
    const session = this.link.current;
    if (session !== undefined) return session.send(request);
    if (this.link.state === 'TRANSIENT_FAILURE') {
      return Promise.reject(new RpcError(Code.UNAVAILABLE, `broker of ${this.target.display} unreachable: ${this.link.failure?.message}`, { unprocessed: true }));
    }
    return beforeSending(this.link.connect(), invocation).then((connected) => connected.send(request));
  }

  /** Bytes of the broker connections, the live one and those lost before it. */
  info(): ChannelInfo {
    const socket = this.link.socket;
    const { bytesIn, bytesOut } = this.link.closedBytes;
    return {
      address: this.address,
      protocol: this.address.startsWith('amqps:') ? 'amqps' : 'amqp',
      state: this.state,
      draining: this.draining,
      bytesIn: bytesIn + (socket?.bytesRead ?? 0),
      bytesOut: bytesOut + (socket?.bytesWritten ?? 0),
      calls: this.calls,
      active: this.link.current?.active ?? 0,
    };
  }

  close(timeoutMs = 5000): Promise<void> {
    this.closing ??= (async () => {
      await this.link.current?.drain(timeoutMs);
      await this.link.close();
    })();
    return this.closing;
  }

  /**
   * Checks and encodes a call before it waits for anything, so that bad calls fail at once. Its
   * deadline and signal are checked where it is published (`ClientSession`).
   */
  private prepare(invocation: Invocation, serviceId: string): Outgoing {
    const serializer = this.options.serializer;
    if (this.closing !== undefined) throw new RpcError(Code.UNAVAILABLE, `channel to ${this.target.display} is closed`, { unprocessed: true });
    if (invocation.service.methods.get(invocation.method)?.stream !== undefined) throw noStreams(serviceId, invocation.method);
    const { fanout, targetServer } = sendModeOf(invocation);
    let topic = this.topics.get(serviceId);
    if (topic === undefined) {
      topic = topicOf(serviceId);
      this.topics.set(serviceId, topic);
    }
    let encoded: Uint8Array;
    try {
      encoded = methodSerializer(serializer, invocation.service, invocation.method, 'client').encode(invocation.args);
    } catch (error) {
      throw new RpcError(Code.INVALID_ARGUMENT, `cannot encode the arguments: ${errorMessage(error)}`, { unprocessed: true });
    }
    if (encoded.byteLength > this.options.maxFrameSize) {
      throw new RpcError(Code.RESOURCE_EXHAUSTED, `request of ${encoded.byteLength} bytes exceeds the limit of ${this.options.maxFrameSize}`, { unprocessed: true });
    }
    const body = Buffer.isBuffer(encoded) ? encoded : Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
    const route = routeOf(this.target.exchange, topic, targetServer, fanout);
    const what = fanout ? `fanout of ${topic}` : route.routingKey;
    return { invocation, body, contentType: contentTypeOf(serializer), topic, exchange: route.exchange, routingKey: route.routingKey, fanout, what };
  }
}

