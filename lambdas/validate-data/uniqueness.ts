/**
 * The `unique` column rule in bounded memory. Repeats are found row by row, exactly, among the
 * first EXACT_UNIQUE_VALUES distinct values (dictionary codes, then 64-bit fingerprints: 16 MiB
 * at most per unique column). Values after that are counted by a HyperLogLog (16 KiB) only: at
 * the end, when the number of values exceeds the repeats found plus the estimated distinct count
 * by more than UNIQUE_ALARM_STANDARD_ERRORS standard errors of the estimate, the difference is
 * reported as repeats not attributed to rows. So a column with up to 2^20 distinct values is
 * checked exactly; beyond, repeats among the untracked values are detected once they exceed
 * about 3.3% of the distinct count (4 × 0.81%), and fewer go undetected.
 */
import {
  FingerprintSet,
  FOUND,
  HLL_STANDARD_ERROR,
  HyperLogLog,
  hashNumber,
  hashString,
  NOT_TRACKED,
  type ValueHash,
} from '../shared/profile/sketches';

/** Distinct values whose repeats are found exactly, row by row. */
export const EXACT_UNIQUE_VALUES = 1 << 20;
/**
 * The estimate's shortfall, in standard errors, above which repeats are reported: the
 * HyperLogLog's error is close to normal, so a truly unique column raises it about 3 times in 100,000.
 */
export const UNIQUE_ALARM_STANDARD_ERRORS = 4;

/** What the check needs of a bounded dictionary (readers/columns.ts, ColumnDictionary). */
interface Codes {
  readonly permanentSize: number;
  valueOf(code: number): string;
}

export class UniquenessCheck {
  private readonly exact: FingerprintSet;
  private readonly distinct = new HyperLogLog();
  private seenCodes = new Uint8Array(64);
  private readonly hash: ValueHash = { high: 0, low: 0 };
  private values = 0;
  private repeats = 0;
  private saturated = false;

  constructor(exactValues = EXACT_UNIQUE_VALUES) {
    this.exact = new FingerprintSet(exactValues);
  }

  /** True when the value of this dictionary code repeats one seen before. */
  repeatedCode(code: number, dictionary: Codes): boolean {
    if (code >= dictionary.permanentSize) return this.repeatedString(dictionary.valueOf(code));
    this.values++;
    if (code >= this.seenCodes.length) {
      const grown = new Uint8Array(Math.max(this.seenCodes.length * 2, code + 1));
      grown.set(this.seenCodes);
      this.seenCodes = grown;
    }
    if (this.seenCodes[code] === 1) {
      this.repeats++;
      return true;
    }
    this.seenCodes[code] = 1;
    this.distinct.add(hashString(dictionary.valueOf(code), this.hash));
    return false;
  }

  repeatedString(text: string): boolean {
    this.values++;
    return this.repeatedHash(hashString(text, this.hash));
  }

  repeatedNumber(value: number): boolean {
    this.values++;
    return this.repeatedHash(hashNumber(value, this.hash));
  }

  /** Repeats among values beyond the exact set, estimated; 0 unless the shortfall is beyond the estimate's error. */
  unattributedRepeats(): number {
    if (!this.saturated) return 0;
    const estimate = this.distinct.estimate();
    const shortfall = this.values - this.repeats - estimate;
    return shortfall > UNIQUE_ALARM_STANDARD_ERRORS * HLL_STANDARD_ERROR * estimate ? Math.round(shortfall) : 0;
  }

  private repeatedHash(hash: ValueHash): boolean {
    this.distinct.add(hash);
    const outcome = this.exact.addOrFind(hash);
    if (outcome === FOUND) {
      this.repeats++;
      return true;
    }
    if (outcome === NOT_TRACKED) this.saturated = true;
    return false;
  }
}
