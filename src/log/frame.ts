import { crc32 } from 'node:zlib';

/**
 * One log record on disk: `crc32 u32 | length u32 | seq u64 | payload`, little-endian. The CRC covers
 * length, seq and payload, so a torn or corrupted frame is recognised and never mistaken for a record.
 */
export const FRAME_HEADER_BYTES = 16;

/** Payloads larger than this are refused; it also bounds what a corrupt length field can claim. */
export const MAX_FRAME_PAYLOAD_BYTES = 16 * 1024 * 1024;

export interface LogEntry {
  seq: number;
  payload: Buffer;
}

/** A record's bytes, or its JSON text (written as UTF-8 straight into the frame, saving a copy). */
export type Payload = Uint8Array | string;

export function payloadBytes(p: Payload): number {
  return typeof p === 'string' ? Buffer.byteLength(p) : p.byteLength;
}

/** Writes frames for `payloads` (numbered from `firstSeq`) into one buffer ready for a single write. */
export function encodeFrames(firstSeq: number, payloads: readonly Payload[]): Buffer {
  const sizes = payloads.map(payloadBytes);
  let total = 0;
  for (const size of sizes) total += FRAME_HEADER_BYTES + size;
  const out = Buffer.allocUnsafe(total);
  let offset = 0;
  let seq = firstSeq;
  for (const [i, p] of payloads.entries()) {
    const size = sizes[i] as number;
    out.writeUInt32LE(size, offset + 4);
    out.writeBigUInt64LE(BigInt(seq++), offset + 8);
    if (typeof p === 'string') out.write(p, offset + FRAME_HEADER_BYTES, 'utf8');
    else out.set(p, offset + FRAME_HEADER_BYTES);
    const end = offset + FRAME_HEADER_BYTES + size;
    out.writeUInt32LE(crc32(out.subarray(offset + 4, end)), offset);
    offset = end;
  }
  return out;
}

export type DecodeResult =
  | { kind: 'frame'; entry: LogEntry; bytes: number }
  /** The buffer ends inside this frame: read more, or at the end of a file it is a torn tail. */
  | { kind: 'incomplete' }
  | { kind: 'corrupt'; reason: string };

/** Decodes the frame starting at `offset`; `expectedSeq` guards against frames out of order. */
export function decodeFrame(buf: Buffer, offset: number, expectedSeq: number): DecodeResult {
  if (buf.length - offset < FRAME_HEADER_BYTES) return { kind: 'incomplete' };
  const length = buf.readUInt32LE(offset + 4);
  if (length > MAX_FRAME_PAYLOAD_BYTES) return { kind: 'corrupt', reason: `length ${length} is beyond any record` };
  const end = offset + FRAME_HEADER_BYTES + length;
  if (end > buf.length) return { kind: 'incomplete' };
  const stored = buf.readUInt32LE(offset);
  if (crc32(buf.subarray(offset + 4, end)) !== stored) return { kind: 'corrupt', reason: 'checksum mismatch' };
  const seq = Number(buf.readBigUInt64LE(offset + 8));
  if (seq !== expectedSeq) return { kind: 'corrupt', reason: `sequence ${seq} where ${expectedSeq} was expected` };
  return {
    kind: 'frame',
    entry: { seq, payload: buf.subarray(offset + FRAME_HEADER_BYTES, end) },
    bytes: end - offset,
  };
}

/**
 * The first whole, valid frame at or after `from` numbered after `afterSeq`, found by trying every byte
 * offset. Recovery uses it to tell a torn tail (nothing valid follows) from damage in the middle of a
 * segment. The sequence number is checked before the checksum: it must lie in the few numbers the rest of
 * the buffer could hold, which random or zeroed bytes almost never do, so the scan costs a CRC only rarely.
 */
export function findFrame(buf: Buffer, from: number, afterSeq: number): { offset: number; seq: number } | undefined {
  const maxSeq = afterSeq + Math.floor((buf.length - from) / FRAME_HEADER_BYTES);
  for (let offset = from; offset + FRAME_HEADER_BYTES <= buf.length; offset++) {
    // Two 32-bit halves: a BigInt per byte offset would make scanning a long tail slow.
    const seq = buf.readUInt32LE(offset + 8) + buf.readUInt32LE(offset + 12) * 2 ** 32;
    if (seq <= afterSeq || seq > maxSeq) continue;
    if (decodeFrame(buf, offset, seq).kind === 'frame') return { offset, seq };
  }
  return undefined;
}
