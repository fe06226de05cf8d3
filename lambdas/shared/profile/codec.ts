/**
 * A profile as stored in S3: JSON, with histogram edges and tails as base64 of little-endian
 * float64 (exact, and 11 bytes per value instead of up to 24 as JSON text), bin means as two
 * base64 digits each (bin-means.ts), which keeps a 3072-edge column under 64 KB. `parseProfile`
 * checks a stored profile and names the first problem.
 */
import * as z from 'zod';
import { ValidationError } from '../errors';
import { decodeMeanLevels, encodeMeanLevels } from './bin-means';
import { type ColumnProfile, type DatasetProfile, PROFILE_FORMAT_VERSION } from './profile';

function encodeFloats(values: readonly number[]): string {
  return Buffer.from(new Float64Array(values).buffer).toString('base64');
}

function decodeFloats(text: string, what: string): number[] {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length % 8 !== 0) throw new ValidationError(`profile ${what} are not a whole number of float64 values`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const edges: number[] = [];
  for (let offset = 0; offset < bytes.length; offset += 8) edges.push(view.getFloat64(offset, true));
  return edges;
}

const count = z.number().int().min(0);
const momentsSchema = z.object({ count, mean: z.number(), m2: z.number().min(0) });
const serializedColumnSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('numeric'),
    count,
    nulls: count,
    invalid: count,
    min: z.number().nullable(),
    max: z.number().nullable(),
    moments: momentsSchema,
    histogram: z.object({ edges: z.base64(), counts: z.array(count), meanLevels: z.string().optional() }),
    tails: z.object({ lowest: z.base64(), highest: z.base64() }).optional(),
  }),
  z.object({
    kind: z.literal('categorical'),
    count,
    nulls: count,
    invalid: count,
    categories: z.array(z.tuple([z.string(), count])),
    otherCount: count,
  }),
]);
const serializedProfileSchema = z.object({
  formatVersion: z.literal(PROFILE_FORMAT_VERSION),
  rowCount: count,
  columns: z.record(z.string(), serializedColumnSchema),
});

export function serializeProfile(profile: DatasetProfile): string {
  const columns: Record<string, unknown> = {};
  for (const [name, column] of Object.entries(profile.columns)) {
    if (column.kind === 'numeric') {
      const { edges, counts, meanLevels } = column.histogram;
      columns[name] = {
        ...column,
        histogram: { edges: encodeFloats(edges), counts, ...(meanLevels ? { meanLevels: encodeMeanLevels(meanLevels) } : {}) },
        ...(column.tails ? { tails: { lowest: encodeFloats(column.tails.lowest), highest: encodeFloats(column.tails.highest) } } : {}),
      };
    } else {
      columns[name] = column;
    }
  }
  return JSON.stringify({ ...profile, columns });
}

/** Parses a stored profile; throws ValidationError naming the first problem. */
export function parseProfile(text: string): DatasetProfile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`profile is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = serializedProfileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ValidationError(`profile is invalid at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const columns: Record<string, ColumnProfile> = {};
  for (const [name, column] of Object.entries(parsed.data.columns)) {
    if (column.kind === 'numeric') {
      const edges = decodeFloats(column.histogram.edges, 'histogram edges');
      const { counts, meanLevels } = column.histogram;
      if (counts.length !== edges.length + 1) {
        throw new ValidationError(`profile column "${name}" has ${counts.length} bin counts for ${edges.length} edges`);
      }
      const { tails, ...rest } = column;
      columns[name] = {
        ...rest,
        histogram: {
          edges,
          counts,
          ...(meanLevels === undefined ? {} : { meanLevels: decodeMeanLevels(meanLevels, counts.length, name) }),
        },
        ...(tails ? { tails: { lowest: decodeFloats(tails.lowest, 'tails'), highest: decodeFloats(tails.highest, 'tails') } } : {}),
      };
    } else {
      columns[name] = column;
    }
  }
  return { formatVersion: PROFILE_FORMAT_VERSION, rowCount: parsed.data.rowCount, columns };
}
