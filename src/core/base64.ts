/**
 * Base64 of bytes that runs in Node and in browsers: Node's `Buffer` when the global exists (much
 * faster on large values), `btoa`/`atob` otherwise. Decoded bytes are a `Buffer` in Node.
 */
interface BufferLike {
  from(data: ArrayBufferLike, offset: number, length: number): { toString(encoding: 'base64'): string };
  from(data: string, encoding: 'base64'): Uint8Array;
}

const NodeBuffer = (globalThis as { Buffer?: BufferLike }).Buffer;
const CHUNK = 0x8000;

export function toBase64(bytes: Uint8Array): string {
  if (NodeBuffer !== undefined) return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  let binary = '';
  for (let i = 0; i < bytes.length; i += CHUNK) binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  return btoa(binary);
}

/** Decodes base64 (padding optional). Characters outside the alphabet are the caller's to refuse. */
export function fromBase64(text: string): Uint8Array {
  if (NodeBuffer !== undefined) return NodeBuffer.from(text, 'base64');
  const binary = atob(text.length % 4 === 0 ? text : text + '='.repeat(4 - (text.length % 4)));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
