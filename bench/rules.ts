/**
 * `npx tsx bench/rules.ts` (suggested script: `npm run bench:rules`): what routing one call through
 * Dubbo-style traffic rules costs, in nanoseconds per call, with no I/O and no caching.
 *
 * Ten providers of one service; three rules: a tag rule (three groups, by address and by parameter),
 * a service-scoped condition rule on the method, and an application-scoped one on an argument and
 * a metadata value. Each scenario routes the same call again and again in one process and reports
 * the median of several rounds. `overridesFor` is timed too, although the wiring runs it when the
 * provider list or a rule changes, not per call.
 *
 * Options: --rounds N (default 9), --iterations N (calls per round, default 200000).
 *
 * Five runs on the 2-core development machine (Node 20.20, load average 3-5 from other jobs); the
 * spread of the medians across runs:
 *
 * | scenario | ns per call |
 * | --- | ---: |
 * | tag rule, untagged call | 25-26 |
 * | tag rule, tagged call | 50-54 |
 * | no tag rule (providers' own tags only), untagged call | 25-28 |
 * | condition rule on the method (2 conditions) | 16-18 |
 * | condition rule on an argument and metadata (1 condition) | 84-98 |
 * | tag rule and method rule, tagged call | 96-102 |
 * | all three rules, untagged call | 169-179 |
 * | all three rules, tagged call | 196-207 |
 * | overridesFor, 2 configurators, one provider (not per call) | 732-784 |
 *
 * Routers remember what they kept of each list they were given (by its identity), so the figures are
 * those of a directory routing its list for a method again and again, as it does between provider
 * changes; a condition rule that reads no call data answers from a per-method memo. On the same
 * machine, `npm run bench -- --only switchyard` measured the small call at 4.1 µs of client CPU
 * (`add-128`) and 18.8 µs (`add-1`): the three rules cost 4-5 % and about 1 % of it. What remains per
 * call is reading the call (its tag, an argument, a metadata value) and the tests on them: the
 * condition rule on call data is most of it, and a system without such a rule routes a call in under
 * 3 % (a tag rule and a method rule: about 100 ns, 2.4 %).
 */
import { parseArgs } from 'node:util';
import { Metadata } from '../src/core/metadata.js';
import { parseProviderUrl, type Provider } from '../src/registry/provider.js';
import { createConditionRouter, parseConditionRouter } from '../src/rules/condition-router.js';
import { parseConfigurator } from '../src/rules/configurator.js';
import { overridesFor } from '../src/rules/configurator-match.js';
import type { Router, RoutingCall } from '../src/rules/routing-call.js';
import { createTagRouter, parseTagRouter } from '../src/rules/tag-router.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '9' }, iterations: { type: 'string', default: '200000' } } });
const rounds = Number(values.rounds);
const iterations = Number(values.iterations);

const providers: Provider[] = Array.from({ length: 10 }, (_, i) => {
  const query = new URLSearchParams({ methods: 'getUser,listUsers,putUser', application: 'user-service', region: i < 6 ? 'hz' : 'sh', tier: i % 3 === 0 ? 'gold' : 'silver', env: i === 9 ? 'gray' : 'prod' });
  return parseProviderUrl(`tcp://10.0.${Math.floor(i / 4)}.${i + 1}:20880/demo.UserService?${query.toString()}`);
});

const tagRule = parseTagRouter(`configVersion: v3.0
force: false
key: user-service
tags:
  - name: canary
    addresses: ["10.0.0.1:20880"]
  - name: beta
    addresses: ["10.0.1.5", "10.0.1.6"]
  - name: gray
    match:
      - key: env
        value: {exact: gray}
`);

const methodRule = parseConditionRouter(`configVersion: v3.0
scope: service
key: demo.UserService
conditions:
  - method = get*,list* => region = hz
  - method = put* => host != 10.0.0.2
`);

const callDataRule = parseConditionRouter(`configVersion: v3.0
scope: application
key: shop
conditions:
  - arguments[0] = 1~1000 & attachments[x-tenant] = vip-* => tier = gold
`);

const tag = createTagRouter(tagRule);
const staticTags = createTagRouter();
const byMethod = createConditionRouter(methodRule);
const byCallData = createConditionRouter(callDataRule);

const untagged: RoutingCall = { method: 'getUser', args: [42], metadata: new Metadata({ 'x-tenant': 'vip-acme' }), consumerHost: '10.9.0.1', consumerApplication: 'shop' };
const tagged: RoutingCall = { ...untagged, metadata: new Metadata({ 'x-tenant': 'vip-acme', 'dubbo.tag': 'beta' }) };

function chain(routers: readonly Router[], call: RoutingCall): number {
  let list: readonly Provider[] = providers;
  for (const router of routers) list = router.route(list, call);
  return list.length;
}

const appConfig = parseConfigurator(`scope: application
key: shop
configs:
  - side: consumer
    parameters: {timeout: 500, loadbalance: leastactive}
`);
const serviceConfig = parseConfigurator(`scope: service
key: demo.UserService
configs:
  - side: consumer
    providerAddresses: ["10.0.0.1:20880", "10.0.0.2:20880"]
    parameters: {weight: 50}
  - addresses: ["10.9.0.1"]
    side: consumer
    parameters: {retries: 0}
`);

const scenarios: Array<[string, () => number]> = [
  ['tag rule, untagged call', () => tag.route(providers, untagged).length],
  ['tag rule, tagged call', () => tag.route(providers, tagged).length],
  ['no tag rule (providers\' own tags only), untagged call', () => staticTags.route(providers, untagged).length],
  ['condition rule on the method (2 conditions)', () => byMethod.route(providers, untagged).length],
  ['condition rule on an argument and metadata (1 condition)', () => byCallData.route(providers, untagged).length],
  ['tag rule and method rule, tagged call', () => chain([tag, byMethod], tagged)],
  ['all three rules, untagged call', () => chain([tag, byMethod, byCallData], untagged)],
  ['all three rules, tagged call', () => chain([tag, byMethod, byCallData], tagged)],
  ['overridesFor, 2 configurators, one provider (not per call)', () => Object.keys(overridesFor([appConfig, serviceConfig], { side: 'consumer', localHost: '10.9.0.1', application: 'shop', provider: providers[0]! })).length],
];

let sink = 0;
function nsPerCall(run: () => number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) sink += run();
  return Number(process.hrtime.bigint() - start) / iterations;
}

// Warm every scenario up first, so the JIT has seen them all before any is timed.
for (const [, run] of scenarios) nsPerCall(run);
const results = new Map<string, number[]>(scenarios.map(([name]) => [name, []]));
for (let round = 0; round < rounds; round++) {
  for (const [name, run] of scenarios) results.get(name)!.push(nsPerCall(run));
}

console.log('| scenario | ns per call |');
console.log('| --- | ---: |');
for (const [name, times] of results) {
  const sorted = [...times].sort((a, b) => a - b);
  console.log(`| ${name} | ${Math.round(sorted[Math.floor(sorted.length / 2)]!)} |`);
}
if (sink === 0) console.error('no provider was ever routed: the scenarios are wrong');
