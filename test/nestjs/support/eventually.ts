/** Asks `read` until it answers `wanted`, for up to about 5 s; a bounded wait for a state another process reaches by itself. */
export async function eventually<T>(read: () => Promise<T>, wanted: T): Promise<T> {
  let last = await read();
  for (let attempt = 0; attempt < 200 && last !== wanted; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    last = await read();
  }
  return last;
}
