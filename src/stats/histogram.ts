/**
 * Log-spaced latency histogram: bucket i holds [GROWTH^i, GROWTH^(i+1)) ms and reports its geometric
 * middle, so any percentile read from it is within sqrt(GROWTH) - 1 ≈ 3.9 % of the true sample.
 */
export const GROWTH = 1.08;
export const MAX_BUCKET = 199; // GROWTH^200 ≈ 4.8e6 ms (80 min): beyond any probe deadline
export const RELATIVE_ERROR = Math.sqrt(GROWTH) - 1;

const LOG_GROWTH = Math.log(GROWTH);

export type Histogram = Map<number, number>;

export function bucketOf(ms: number): number {
  if (!(ms >= 1)) return 0;
  return Math.min(MAX_BUCKET, Math.floor(Math.log(ms) / LOG_GROWTH));
}

export function bucketValue(index: number): number {
  return index === 0 ? 1 : GROWTH ** (index + 0.5);
}

export function addSample(histogram: Histogram, ms: number, count = 1): void {
  const index = bucketOf(ms);
  histogram.set(index, (histogram.get(index) ?? 0) + count);
}

export function mergeInto(target: Histogram, source: Histogram): Histogram {
  for (const [index, count] of source) target.set(index, (target.get(index) ?? 0) + count);
  return target;
}

export function totalCount(histogram: Histogram): number {
  let total = 0;
  for (const count of histogram.values()) total += count;
  return total;
}

/** Nearest-rank percentile (q in (0, 1]); null for an empty histogram. */
export function percentile(histogram: Histogram, q: number): number | null {
  const total = totalCount(histogram);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const index of [...histogram.keys()].sort((a, b) => a - b)) {
    seen += histogram.get(index)!;
    if (seen >= rank) return bucketValue(index);
  }
  return null;
}

/** Sparse binary form for the rollup tables: (uint8 bucket, uint32 count) pairs, 5 bytes each. */
export function encodeHistogram(histogram: Histogram): Buffer {
  const entries = [...histogram.entries()].filter(([, count]) => count > 0).sort((a, b) => a[0] - b[0]);
  const buffer = Buffer.alloc(entries.length * 5);
  entries.forEach(([index, count], i) => {
    buffer.writeUInt8(index, i * 5);
    buffer.writeUInt32LE(count, i * 5 + 1);
  });
  return buffer;
}

export function decodeHistogram(buffer: Uint8Array | null | undefined, into: Histogram = new Map()): Histogram {
  if (!buffer) return into;
  const view = Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  for (let offset = 0; offset + 5 <= view.length; offset += 5) {
    const index = view.readUInt8(offset);
    into.set(index, (into.get(index) ?? 0) + view.readUInt32LE(offset + 1));
  }
  return into;
}
