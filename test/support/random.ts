/** A small seeded PRNG (mulberry32): the same seed gives the same sequence in [0, 1). The kit's own, for the tests. */
export { mulberry32 } from '../../src/testing/random.js';
