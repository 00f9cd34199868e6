import { requestMetadataOf } from '../core/client-call.js';
import type { Invocation } from '../core/invocation.js';
import type { Metadata } from '../core/metadata.js';
import type { Router, RoutingCall } from '../rules/routing-call.js';
import type { Invoker } from './invoker.js';

/** The consumer, as routers read it (`host`, `application`, `$host` after `=>`). */
export interface RoutingConsumer {
  readonly host: string;
  readonly application: string;
}

const providerOf = (invoker: Invoker) => invoker.provider;

/**
 * The routers of traffic rules (tag and condition routers, src/rules/), applied in order to a
 * directory's invokers for a method, each narrowing what the one before kept.
 *
 * One `RoutingCall` is filled for each routing and emptied after it: routing is synchronous and
 * routers keep no call, so a call routed here allocates nothing for it. Routers remember what they
 * kept of each list (by identity), so the same candidates routed again cost lookups only.
 */
export class RouterChain {
  /** Whether some router reads a call's arguments or metadata: then every call is routed on its own. */
  readonly perCall: boolean;
  private readonly view: CallView;
  /**
   * Per router that reads no call data, what it kept per method (and of which list): its answer
   * depends on nothing else while the consumer stays the same, so a call routed on its own looks
   * it up instead of asking the router.
   */
  private readonly memos: ReadonlyArray<Map<string, Routed> | undefined>;
  /**
   * What the chain kept per method for calls that carry no metadata, when no router reads arguments
   * (tag routers, conditions on attachments): such calls of a method are all routed alike, so most
   * calls under a tag rule, which carry no tag, cost a lookup. Undefined when some router reads arguments.
   */
  private readonly withoutMetadata: Map<string, Routed & { readonly method: string }> | undefined;
  private lastWithoutMetadata: (Routed & { readonly method: string }) | undefined;

  constructor(readonly routers: readonly Router[], consumer: RoutingConsumer) {
    this.perCall = routers.some((router) => router.readsCallData);
    this.view = new CallView(consumer);
    this.memos = routers.map((router) => (router.readsCallData ? undefined : new Map()));
    this.withoutMetadata = routers.some((router) => router.readsCallData && router.readsArguments !== false) ? undefined : new Map();
  }

  /**
   * The invokers `candidates` keep for a call of `method` with no metadata and no argument a router
   * reads: for every call of it when no router reads call data.
   */
  routeMethod(candidates: readonly Invoker[], method: string): readonly Invoker[] {
    this.view.method = method;
    return this.run(candidates);
  }

  /** The invokers `candidates` keep for this call. */
  routeCall(candidates: readonly Invoker[], call: Invocation): readonly Invoker[] {
    const plain = this.withoutMetadata;
    if (plain !== undefined && requestMetadataOf(call) === undefined) {
      // Calls come in runs of one method: the last answer is checked before the table.
      const last = this.lastWithoutMetadata;
      if (last !== undefined && last.method === call.method && last.input === candidates) return last.output;
      let known = plain.get(call.method);
      if (known === undefined || known.input !== candidates) {
        known = { method: call.method, input: candidates, output: this.routeMethod(candidates, call.method) };
        plain.set(call.method, known);
      }
      this.lastWithoutMetadata = known;
      return known.output;
    }
    const view = this.fill(call);
    try {
      return this.run(candidates);
    } finally {
      view.clear();
    }
  }

  /** Why routing keeps none of `candidates` for calls of `method`. */
  explainMethod(candidates: readonly Invoker[], method: string): string {
    this.view.method = method;
    return this.explain(candidates);
  }

  /** Why routing keeps none of `candidates` for this call. */
  explainCall(candidates: readonly Invoker[], call: Invocation): string {
    const view = this.fill(call);
    try {
      return this.explain(candidates);
    } finally {
      view.clear();
    }
  }

  private fill(call: Invocation): CallView {
    const view = this.view;
    view.method = call.method;
    view.args = call.args;
    view.metadata = requestMetadataOf(call);
    return view;
  }

  private run(candidates: readonly Invoker[]): readonly Invoker[] {
    const { routers, memos, view } = this;
    let list = candidates;
    for (let i = 0; i < routers.length && list.length > 0; i++) {
      const memo = memos[i];
      if (memo === undefined) {
        list = routers[i]!.route(list, view, providerOf);
        continue;
      }
      const known = memo.get(view.method);
      if (known !== undefined && known.input === list) {
        list = known.output;
        continue;
      }
      const output = routers[i]!.route(list, view, providerOf);
      memo.set(view.method, { input: list, output });
      list = output;
    }
    return list;
  }

  private explain(candidates: readonly Invoker[]): string {
    let list = candidates;
    for (const router of this.routers) {
      const next = router.route(list, this.view, providerOf);
      if (next.length === 0) return router.explainEmpty(list, this.view, providerOf) ?? 'a routing rule keeps none of the providers';
      list = next;
    }
    return 'a routing rule keeps none of the providers';
  }
}

/** What routing kept of one list. */
interface Routed {
  readonly input: readonly Invoker[];
  readonly output: readonly Invoker[];
}

/** The call being routed, as routers read it; one per chain, refilled for each routing. */
class CallView implements RoutingCall {
  method = '';
  args: readonly unknown[] | undefined = undefined;
  metadata: Metadata | undefined = undefined;
  readonly consumerHost: string;
  readonly consumerApplication: string;

  constructor(consumer: RoutingConsumer) {
    this.consumerHost = consumer.host;
    this.consumerApplication = consumer.application;
  }

  /** Drops the call's data, so that the chain keeps nothing of it alive. */
  clear(): void {
    this.args = undefined;
    this.metadata = undefined;
  }
}
