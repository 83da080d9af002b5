/**
 * Gzip bodies whose text changes in a few places only, assembled without compressing again.
 *
 * The text is parts that stay, with slots between them whose text changes (a cached series
 * body: the final buckets of each array stay, the buckets after them change with every write).
 * The parts are compressed once, each as raw deflate ending on a byte boundary (a sync flush)
 * and allowed to refer to up to `dictionaryBytes` of the text before it; each slot gets a
 * stored (uncompressed) block of a fixed width, its text padded with spaces (which JSON allows
 * between tokens). So every gzip of a frame has the same layout: assembling one copies the
 * frame's last gzip, writes each slot's text into its block, and computes the CRC of the whole
 * text from each part's CRC, kept with the frame, and the slots' bytes (`crc32Combine`, as
 * zlib's crc32_combine): the parts are neither copied piece by piece nor read again.
 *
 * Making a frame costs more than one whole compression (~6 ms for a year series of 105 KB): it
 * is made once per build. Assembling one from it costs a copy of the gzip (~19 KB for that
 * year) and the slots' bytes.
 *
 * For the parts' references to keep their distances, a slot has a fixed width. While the parts
 * are compressed, the slots hold bytes 0x01, which the parts never contain (JSON escapes
 * control characters), so that no reference copies a slot's bytes.
 */
import { constants, crc32, deflateRawSync } from 'node:zlib';

/** How far back a part may refer: a series' arrays mostly repeat the arrays just before them. */
const dictionaryBytes = 8 * 1024;

/** The parts compressed, laid out in a gzip with a stored block of a fixed width per slot. */
export interface GzipFrame {
  /** The last gzip assembled from this frame (or one with empty slots): every gzip of the frame has its layout. */
  readonly gzip: Buffer;
  /** Slot i lies between parts i and i + 1; its text is padded to this many bytes. */
  readonly widths: readonly number[];
  /** Where slot i's text starts in the gzip (after its stored block's header). */
  readonly slotStarts: readonly number[];
  /** Each part's CRC-32, and the operator that moves a CRC past its length (see `crc32Combine`). */
  readonly partCrcs: readonly number[];
  readonly partShifts: readonly number[];
  /** Bytes of the text: the parts and the slots' widths. */
  readonly textBytes: number;
}

const placeholder = 0x01;
const space = 0x20;
/** Gzip's header: deflate, no name, no time, unknown system. */
const header = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
/** An empty final block (fixed Huffman codes, end of block). */
const lastBlock = Buffer.from([0x03, 0x00]);
/** A stored block's header: bits 000 (not last, stored) padded to the byte, then LEN and its complement. */
const storedHeaderBytes = 5;
const trailerBytes = 8;

/** CRC-32's polynomial, reflected (that of gzip and zlib). */
const polynomial = 0xedb88320;

/** a(x) b(x) modulo the polynomial, both reflected (zlib's multmodp). */
function multiplyModP(a: number, b: number): number {
  let product = 0;
  for (let m = 0x80000000; m !== 0; m >>>= 1) {
    if ((a & m) !== 0) product ^= b;
    b = b & 1 ? (b >>> 1) ^ polynomial : b >>> 1;
  }
  return product >>> 0;
}

/** x^(2^k) modulo the polynomial, k = 0..31 (zlib's x2n_table). */
const powersOfX = ((): number[] => {
  const table = [0x40000000];
  for (let k = 1; k < 32; k++) table.push(multiplyModP(table[k - 1] ?? 0, table[k - 1] ?? 0));
  return table;
})();

/** The operator that moves a CRC past `bytes` bytes: x^(8 bytes) modulo the polynomial (zlib's x2nmodp(bytes, 3)). */
export function crc32Shift(bytes: number): number {
  let p = 0x80000000;
  for (let n = bytes, k = 3; n > 0; n = Math.floor(n / 2), k++) {
    if (n % 2 === 1) p = multiplyModP(powersOfX[k % 32] ?? 0, p);
  }
  return p;
}

/** The CRC-32 of a text whose first piece has CRC `first` and whose second has CRC `second`, the second's shift being `shift` (`crc32Shift` of its length). */
export function crc32Combine(first: number, second: number, shift: number): number {
  return (multiplyModP(shift, first) ^ second) >>> 0;
}

const crcTable = ((): Int32Array => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ polynomial : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/**
 * Writes `slot` at `start` of `out`, padded with spaces to `width`, and returns `crc` carried
 * over those bytes: a slot is a few bytes, for which calls of Buffer's copy and fill and of
 * zlib's crc32 (with a view each) cost more than this loop.
 */
function writeSlot(out: Buffer, start: number, slot: Buffer, width: number, crc: number): number {
  let c = ~crc;
  for (let i = 0; i < width; i++) {
    const byte = i < slot.length ? (slot[i] ?? space) : space;
    out[start + i] = byte;
    c = (crcTable[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8);
  }
  return ~c >>> 0;
}

/**
 * Compresses `parts` (one more than `widths`) for slots of these widths; null when a part
 * contains byte 0x01 (then the text cannot be spliced this way).
 */
export function gzipFrame(parts: readonly Buffer[], widths: readonly number[], level = 1): GzipFrame | null {
  if (parts.length !== widths.length + 1) throw new Error(`${String(parts.length)} parts for ${String(widths.length)} slots`);
  if (widths.some((width) => width > 0xffff)) throw new Error('a slot is wider than a stored block (65,535 bytes)');
  if (parts.some((part) => part.includes(placeholder))) return null;
  // The text as the compressor sees it, slots as placeholders: the last dictionaryBytes before each part.
  let before: Buffer = Buffer.alloc(0);
  const compressed = parts.map((part, i) => {
    const dictionary = before.subarray(Math.max(0, before.length - dictionaryBytes));
    const bytes = deflateRawSync(part, { level, finishFlush: constants.Z_SYNC_FLUSH, ...(dictionary.length > 0 ? { dictionary } : {}) });
    const width = widths[i];
    const seen = width === undefined ? [dictionary, part] : [dictionary, part, Buffer.alloc(width, placeholder)];
    before = Buffer.concat(seen);
    return bytes;
  });
  // The layout: header, then each compressed part followed by its slot's stored block, an
  // empty last block, the trailer.
  const pieces: Buffer[] = [header];
  const slotStarts: number[] = [];
  let at = header.length;
  compressed.forEach((zipped, i) => {
    pieces.push(zipped);
    at += zipped.length;
    const width = widths[i];
    if (width === undefined) return;
    const block = Buffer.alloc(storedHeaderBytes + width, space);
    block[0] = 0;
    block.writeUInt16LE(width, 1);
    block.writeUInt16LE(~width & 0xffff, 3);
    pieces.push(block);
    slotStarts.push(at + storedHeaderBytes);
    at += block.length;
  });
  pieces.push(lastBlock, Buffer.alloc(trailerBytes));
  return {
    gzip: Buffer.concat(pieces),
    widths,
    slotStarts,
    partCrcs: parts.map((part) => crc32(part)),
    partShifts: parts.map((part) => crc32Shift(part.length)),
    textBytes: parts.reduce((sum, part) => sum + part.length, 0) + widths.reduce((sum, width) => sum + width, 0),
  };
}

/**
 * The gzip of the frame's parts with `slots` between them, each padded with spaces to its
 * width, and the frame again with that gzip as its own (keep that one: the two then share
 * their memory); null when a slot is wider than the frame allows (make a new frame).
 */
export function assembleGzip(frame: GzipFrame, slots: readonly Buffer[]): { gzip: Buffer; frame: GzipFrame } | null {
  const { widths, slotStarts, partCrcs, partShifts } = frame;
  if (slots.length !== widths.length) throw new Error('the slots do not match the frame');
  if (slots.some((slot, i) => slot.length > (widths[i] ?? 0))) return null;
  // A copy: the frame's last gzip may still be on its way to a client.
  const gzip = Buffer.allocUnsafe(frame.gzip.length);
  frame.gzip.copy(gzip);
  let crc = 0;
  for (let i = 0; i < partCrcs.length; i++) {
    crc = crc32Combine(crc, partCrcs[i] ?? 0, partShifts[i] ?? 0);
    const slot = slots[i];
    const width = widths[i];
    const start = slotStarts[i];
    if (slot === undefined || width === undefined || start === undefined) continue;
    crc = writeSlot(gzip, start, slot, width, crc);
  }
  const trailer = gzip.length - trailerBytes;
  gzip.writeUInt32LE(crc, trailer);
  gzip.writeUInt32LE(frame.textBytes % 2 ** 32, trailer + 4);
  return { gzip, frame: { ...frame, gzip } };
}
