import { HEADER_SIZE, readHeader, type Frame, type FrameHeader } from './frame.js';

/**
 * Cuts a byte stream into frames. Chunks are kept as received; a frame that lies within one chunk
 * is a view of it, and only a frame split across chunks is copied, once, into a buffer of its size.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private header: FrameHeader | undefined;

  constructor(private readonly maxFrameSize: number) {}

  /** Adds received bytes and returns the frames they complete; throws `ProtocolError` on bad input. */
  push(chunk: Buffer, onFrame: (frame: Frame) => void): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (true) {
      if (this.header === undefined) {
        if (this.buffered < HEADER_SIZE) return;
        const head = this.contiguous(HEADER_SIZE);
        this.header = readHeader(head, 0, this.maxFrameSize);
      }
      const size = HEADER_SIZE + this.header.metadataLength + this.header.bodyLength;
      if (this.buffered < size) return;
      const bytes = this.take(size);
      const header = this.header;
      this.header = undefined;
      const metaEnd = HEADER_SIZE + header.metadataLength;
      // Fields written out: an object spread here costs more than the rest of the decoding.
      onFrame({
        type: header.type,
        flags: header.flags,
        serializer: header.serializer,
        requestId: header.requestId,
        metadataLength: header.metadataLength,
        bodyLength: header.bodyLength,
        metadata: bytes.subarray(HEADER_SIZE, metaEnd),
        body: bytes.subarray(metaEnd, size),
      });
    }
  }

  /** The first `size` buffered bytes as one buffer, without consuming them. */
  private contiguous(size: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= size) return first;
    const out = Buffer.allocUnsafe(size);
    let filled = 0;
    for (const chunk of this.chunks) {
      filled += chunk.copy(out, filled, 0, Math.min(chunk.length, size - filled));
      if (filled === size) break;
    }
    return out;
  }

  /** Removes and returns the first `size` buffered bytes. */
  private take(size: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= size) {
      if (first.length === size) this.chunks.shift();
      else this.chunks[0] = first.subarray(size);
      this.buffered -= size;
      return first.subarray(0, size);
    }
    const out = Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < size) {
      const chunk = this.chunks[0]!;
      const n = Math.min(chunk.length, size - filled);
      chunk.copy(out, filled, 0, n);
      filled += n;
      if (n === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(n);
    }
    this.buffered -= size;
    return out;
  }
}
