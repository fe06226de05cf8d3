/**
 * Fixed-size summaries for columns whose distinct values outgrow exact tracking: 64-bit value
 * fingerprints (an exact-in-practice duplicate detector up to a stated number of values),
 * HyperLogLog for the number of distinct values beyond it, and SpaceSaving for the most frequent
 * categories. Each takes memory fixed at construction (or growing to a stated cap), never with the
 * input. Hand-written: the npm sketches (bloom-filters' HyperLogLog and TopK) hash JavaScript
 * strings with dependencies far above what a few dozen lines need, and none takes a value's bytes.
 */

/** Hashes of a value: two independent 32-bit hashes, together a 64-bit fingerprint. */
export interface ValueHash {
  high: number;
  low: number;
}

/** Murmur3's 32-bit finalizer: every input bit flips each output bit with probability about 1/2. */
function mix32(hash: number): number {
  let h = hash;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The two hashes of a string (over its UTF-16 code units: the same text always hashes the same). */
export function hashString(text: string, into: ValueHash): ValueHash {
  let a = 0x811c9dc5;
  let b = 0x9747b28c ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    a = Math.imul(a ^ unit, 0x01000193);
    b = Math.imul(b ^ unit, 0x5bd1e995);
    b ^= b >>> 15;
  }
  into.high = mix32(a);
  into.low = mix32(b ^ Math.imul(a, 0x27d4eb2d));
  return into;
}

const numberBits = new Float64Array(1);
const numberWords = new Int32Array(numberBits.buffer);

/**
 * The two hashes of a number: its float64 bits through two Feistel-like rounds of a bijective mix,
 * so the fingerprint is injective (no two numbers collide) and both words depend on every bit.
 */
export function hashNumber(value: number, into: ValueHash): ValueHash {
  numberBits[0] = value === 0 ? 0 : value; // -0 and 0 are the same value
  const mixedLow = mix32(numberWords[0]!);
  const high = mix32(numberWords[1]! ^ mixedLow);
  into.high = high;
  into.low = mix32(mixedLow ^ Math.imul(high, 0x9e3779b1));
  return into;
}

export const FOUND = 1;
export const ADDED = 0;
export const NOT_TRACKED = -1;

/**
 * An open-addressing set of 64-bit fingerprints, growing to `capacity` entries (16 bytes a slot at
 * half load: 16 MiB at 2^20). For strings two different values share a fingerprint with
 * probability n²/2^65 over n values (3·10⁻⁸ at 2^20), so a repeat it reports is a repeat; numbers
 * are fingerprinted by their bits, exactly.
 */
export class FingerprintSet {
  private high = new Int32Array(1024);
  private low = new Int32Array(1024);
  private used = new Uint8Array(1024);
  private entries = 0;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.entries;
  }

  /** FOUND when the fingerprint was there already, else ADDED, or NOT_TRACKED when the set is full. */
  addOrFind(hash: ValueHash): typeof FOUND | typeof ADDED | typeof NOT_TRACKED {
    const mask = this.used.length - 1;
    const high = hash.high | 0;
    const low = hash.low | 0;
    let slot = (hash.low ^ mix32(hash.high)) & mask;
    while (this.used[slot] === 1) {
      if (this.high[slot] === high && this.low[slot] === low) return FOUND;
      slot = (slot + 1) & mask;
    }
    if (this.entries >= this.capacity) return NOT_TRACKED;
    this.used[slot] = 1;
    this.high[slot] = high;
    this.low[slot] = low;
    this.entries++;
    if (this.entries * 2 > this.used.length) this.grow();
    return ADDED;
  }

  private grow(): void {
    const { high, low, used } = this;
    const size = used.length * 2;
    this.high = new Int32Array(size);
    this.low = new Int32Array(size);
    this.used = new Uint8Array(size);
    const mask = size - 1;
    for (let old = 0; old < used.length; old++) {
      if (used[old] !== 1) continue;
      let slot = (low[old]! ^ mix32(high[old]!)) & mask;
      while (this.used[slot] === 1) slot = (slot + 1) & mask;
      this.used[slot] = 1;
      this.high[slot] = high[old]!;
      this.low[slot] = low[old]!;
    }
  }
}

/** Registers of the HyperLogLog: 2^14 (16 KiB), a relative standard error of 1.04/√2^14 ≈ 0.81%. */
export const HLL_PRECISION = 14;
export const HLL_STANDARD_ERROR = 1.04 / Math.sqrt(2 ** HLL_PRECISION);

/** Largest register value: the rank of a 32-bit word, 1 … 33. */
const HLL_MAX_RANK = 33;

/**
 * Flajolet et al.'s HyperLogLog over the 64-bit hashes (index from the high word's top bits, rank
 * from the low word), read with Ertl's improved estimator ("New cardinality estimation algorithms
 * for HyperLogLog sketches", 2017): unbiased from a handful of values to 2^40 without the
 * empirical bias tables of HLL++, where the classic estimator is off by up to 3% near 2.5 × 2^14.
 */
export class HyperLogLog {
  private readonly registers = new Uint8Array(1 << HLL_PRECISION);

  add(hash: ValueHash): void {
    const index = hash.high >>> (32 - HLL_PRECISION);
    const rank = Math.clz32(hash.low) + 1;
    if (rank > this.registers[index]!) this.registers[index] = rank;
  }

  /** The estimated number of distinct values added. */
  estimate(): number {
    const m = this.registers.length;
    const histogram = new Array<number>(HLL_MAX_RANK + 1).fill(0);
    for (const register of this.registers) histogram[register]!++;
    let z = m * ertlTau(1 - histogram[HLL_MAX_RANK]! / m);
    for (let rank = HLL_MAX_RANK - 1; rank >= 1; rank--) z = 0.5 * (z + histogram[rank]!);
    z += m * ertlSigma(histogram[0]! / m);
    return (m * m) / (2 * Math.LN2 * z);
  }
}

/** σ(x) = x + Σ_{k≥1} x^(2^k) 2^(k−1), Ertl's correction for empty registers. */
function ertlSigma(x: number): number {
  if (x === 1) return Number.POSITIVE_INFINITY;
  let power = x;
  let weight = 1;
  let sum = x;
  for (;;) {
    power *= power;
    const next = sum + power * weight;
    if (next === sum) return sum;
    sum = next;
    weight += weight;
  }
}

/** τ(x) = (1 − x − Σ_{k≥1} (1 − x^(2^−k))² 2^−k) / 3, Ertl's correction for saturated registers. */
function ertlTau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let root = x;
  let weight = 1;
  let sum = 1 - x;
  for (;;) {
    root = Math.sqrt(root);
    weight *= 0.5;
    const next = sum - (1 - root) ** 2 * weight;
    if (next === sum) return sum / 3;
    sum = next;
  }
}

/**
 * Metwally et al.'s SpaceSaving: `capacity` counters over a stream of strings. A value's reported
 * count overestimates its true count by at most `error` (≤ N / capacity for N values offered), so
 * `count − error` is a lower bound; every value more frequent than N / capacity is kept. Exact
 * while the stream has at most `capacity` distinct values. The counters form a min-heap, so a
 * newcomer replaces the smallest in O(log capacity).
 */
export class SpaceSaving {
  private readonly keys: string[] = [];
  private readonly counts: number[] = [];
  private readonly errors: number[] = [];
  /** Heap of counter indexes, smallest count first. */
  private readonly heap: number[] = [];
  private readonly positions: number[] = [];
  private readonly byKey = new Map<string, number>();
  total = 0;

  constructor(readonly capacity: number) {}

  add(key: string): void {
    this.total++;
    const known = this.byKey.get(key);
    if (known !== undefined) {
      this.counts[known]!++;
      this.siftDown(this.positions[known]!);
      return;
    }
    if (this.keys.length < this.capacity) {
      const counter = this.keys.push(key) - 1;
      this.counts.push(1);
      this.errors.push(0);
      this.positions.push(this.heap.push(counter) - 1);
      this.byKey.set(key, counter);
      this.siftUp(this.heap.length - 1);
      return;
    }
    const smallest = this.heap[0]!;
    this.byKey.delete(this.keys[smallest]!);
    this.keys[smallest] = key;
    this.errors[smallest] = this.counts[smallest]!;
    this.counts[smallest]!++;
    this.byKey.set(key, smallest);
    this.siftDown(0);
  }

  /** [value, lower bound of its count] for every counter whose lower bound is positive. */
  guaranteed(): [string, number][] {
    const pairs: [string, number][] = [];
    this.keys.forEach((key, counter) => {
      const lower = this.counts[counter]! - this.errors[counter]!;
      if (lower > 0) pairs.push([key, lower]);
    });
    return pairs;
  }

  private less(a: number, b: number): boolean {
    return this.counts[this.heap[a]!]! < this.counts[this.heap[b]!]!;
  }

  private swap(a: number, b: number): void {
    const heap = this.heap;
    const counter = heap[a]!;
    heap[a] = heap[b]!;
    heap[b] = counter;
    this.positions[heap[a]!] = a;
    this.positions[heap[b]!] = b;
  }

  private siftUp(at: number): void {
    let position = at;
    while (position > 0) {
      const parent = (position - 1) >> 1;
      if (!this.less(position, parent)) return;
      this.swap(position, parent);
      position = parent;
    }
  }

  private siftDown(at: number): void {
    let position = at;
    const size = this.heap.length;
    for (;;) {
      const left = 2 * position + 1;
      if (left >= size) return;
      const right = left + 1;
      const child = right < size && this.less(right, left) ? right : left;
      if (!this.less(child, position)) return;
      this.swap(position, child);
      position = child;
    }
  }
}
