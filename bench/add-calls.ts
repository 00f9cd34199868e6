/**
 * The call loop of the instruction-counting benchmarks: `calls` calls of `add(seq, 7)`, `inFlight`
 * at a time, each answer checked, so that a setup which answers wrongly fails rather than counts.
 */
export async function runAddCalls(add: (a: number, b: number) => Promise<number>, calls: number, inFlight: number): Promise<void> {
  let seq = 0;
  const lane = async (): Promise<void> => {
    while (seq < calls) {
      const a = seq++;
      const sum = await add(a, 7);
      if (sum !== a + 7) throw new Error(`add(${a}, 7) returned ${String(sum)}`);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
}
