/** The items the stream benchmarks send: `count` byte arrays of `size` bytes. */

/** One array sent again and again: the throughput benchmark measures the transport, not the allocator. */
export function* sameItem(count: number, size: number): Generator<Uint8Array> {
  const item = filled(size);
  for (let i = 0; i < count; i++) yield item;
}

/**
 * A fresh array per item, as a producer that reads a file makes them: the memory benchmark must
 * see every item the transport holds on to.
 */
export function* freshItems(count: number, size: number): Generator<Uint8Array> {
  for (let i = 0; i < count; i++) yield filled(size);
}

function filled(size: number): Uint8Array {
  const item = new Uint8Array(size);
  item.fill(0xa5);
  return item;
}

/** Throws unless `item` is `size` bytes: every benchmark checks what it receives. */
export function checkItem(item: Uint8Array, size: number): void {
  if (item.byteLength !== size) throw new Error(`received an item of ${item.byteLength} bytes, not ${size}`);
}
