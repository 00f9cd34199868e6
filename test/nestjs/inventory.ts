import { defineService } from '../../src/index.js';

/** The service the hybrid Nest application of hybrid.test.ts serves beside its HTTP routes. */
export interface Inventory {
  /** How many of `item` are in stock; NOT_FOUND (a Nest `NotFoundException`) for an unknown item. */
  count(item: string): Promise<number>;
  /** Takes `count` of `item` from the stock and answers what is left; FAILED_PRECONDITION if there are not enough. */
  reserve(item: string, count: number): Promise<number>;
  /** Answers `held ${ms}` after `ms`: a call in flight while the application closes. */
  hold(ms: number): Promise<string>;
  /** How many `hold` calls are running. */
  openHolds(): Promise<number>;
}

export const InventoryService = defineService<Inventory>('nest.Inventory', {
  version: '1.0.0',
  methods: { count: {}, reserve: {}, hold: {}, openHolds: {} },
});
