/**
 * Bucket rows read as one BLOB that SQLite packs, instead of a JavaScript row per bucket.
 * better-sqlite3 spends about 3 to 5 µs making each row (an array and a Buffer): 60,000 small
 * bucket rows (a month's partial days of 5,000 VMs) cost 150 to 340 ms to read that way, where
 * SQLite itself scans them in about 15 ms; packed, the same rows cost 70 to 90 ms, most of it in
 * SQLite's hex() and unhex() (bench/RESULTS.md, issue #13).
 *
 * Packed form, row after row: the entity number (8 hex digits, so below 2^32: entity numbers are
 * row ids), the bucket start (8, unix seconds: below 2^32 until 2106), the data's length (4: a
 * bucket row is a few hundred bytes at most), the data. The order of the rows is SQLite's.
 */

/** The SELECT giving `entity`, `bucket_sec` and `data` columns, as one packed BLOB (NULL for no rows). */
export function packedRows(select: string): string {
  return `SELECT unhex(group_concat(printf('%08X%08X%04X', entity, bucket_sec, length(data)) || hex(data), '')) FROM (${select})`;
}

const headerBytes = 10;

/**
 * Calls `visit` with each row of a packed BLOB (null or empty: none); `data` is a view into it.
 * @throws RangeError when the BLOB is not in the packed form
 */
export function eachPackedRow(blob: Uint8Array | null, visit: (entity: number, bucketSec: number, data: Uint8Array) => void): void {
  if (blob === null) return;
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  let at = 0;
  while (at < blob.byteLength) {
    if (at + headerBytes > blob.byteLength) throw new RangeError(`packed bucket rows cut at byte ${String(at)} of ${String(blob.byteLength)}`);
    const length = view.getUint16(at + 8);
    const end = at + headerBytes + length;
    if (end > blob.byteLength) throw new RangeError(`packed bucket rows cut at byte ${String(at)} of ${String(blob.byteLength)}`);
    visit(view.getUint32(at), view.getUint32(at + 4), blob.subarray(at + headerBytes, end));
    at = end;
  }
}
