/**
 * The drift benchmark's end-to-end case: a capture window written as the predict function writes
 * it (CaptureBuffer's JSON Lines, 1000 records per object, hour partitions) into the local S3,
 * the reference profile stored beside it, and the check-drift core run over it: listing, reading,
 * decompressing, parsing every line, profiling, comparing and writing the report. What a deployed
 * check pays, but for S3's own latency.
 */
import type { DriftModelSettings } from '../contracts/drift';
import { checkDrift, type DriftCheckResult } from '../lambdas/check-drift/check-drift';
import type { DriftVerdict } from '../lambdas/check-drift/verdict';
import { serializeProfile } from '../lambdas/shared/profile/codec';
import type { DatasetProfile } from '../lambdas/shared/profile/profile';
import { Registry } from '../lambdas/shared/registry/registry-service';
import { S3ObjectStore } from '../lambdas/shared/s3-object-store';
import { CaptureBuffer } from '../lambdas/shared/serving/capture';
import { startS3Local } from '../local/s3-local';
import { InMemoryRegistryStore } from '../testkit/in-memory-registry-store';

const MODEL = 'bench';
const WINDOW_START = Date.parse('2026-05-01T10:00:00.000Z');
const WINDOW_END = Date.parse('2026-05-01T11:00:00.000Z');
/** Rows per predict request (the demo's batch clients send about this many). */
const ROWS_PER_REQUEST = 10;

/** The drift settings both window benchmarks judge with: every feature numeric, the default rules. */
export function benchDriftSettings(model: string, names: readonly string[]): DriftModelSettings {
  return {
    name: model,
    features: names.map((name) => ({ name, type: 'number', critical: false })),
    windowHours: 1,
    rules: {
      psiWarn: 0.1,
      psiDrift: 0.25,
      ksPValue: 0.05,
      jsDistance: 0.1,
      minSampleSize: 1000,
      driftedFeatureShare: 0.5,
      multipleTesting: 'benjamini-hochberg',
      featureThresholds: {},
    },
  };
}

export interface WindowRun {
  readonly seconds: number;
  readonly objects: number;
  readonly megabytes: number;
  readonly result: DriftCheckResult;
  readonly verdict: DriftVerdict;
}

/**
 * Writes `columns` (the current window, one array per feature) as capture objects and times
 * check-drift over them against `reference` (whose numeric columns are named x0, x1, …).
 */
export async function runCaptureWindow(reference: DatasetProfile, columns: readonly Float64Array[]): Promise<WindowRun> {
  const s3 = await startS3Local({ buckets: ['artifacts', 'capture'] });
  try {
    const store = new S3ObjectStore(s3.client());
    const profileKey = 'profiles/bench/run-1/profile.json';
    await store.put('artifacts', profileKey, serializeProfile(reference), 'application/json');
    const registry = new InMemoryRegistryStore();
    const service = new Registry(registry);
    const version = await service.registerVersion({
      modelName: MODEL,
      artifactUri: 's3://artifacts/models/bench/1/model.tar.gz',
      artifactSha256: 'a'.repeat(64),
      lineage: { datasetUri: 's3://datasets/bench/', datasetEtag: 'e1', profileUri: `s3://artifacts/${profileKey}` },
      actor: 'bench',
    });
    await service.promote({ modelName: MODEL, version: version.version, actor: 'bench' });

    const rows = columns[0]!.length;
    let clock = WINDOW_START;
    let bytes = 0;
    let objects = 0;
    const capture = new CaptureBuffer({
      modelName: MODEL,
      samplePercent: 100,
      now: () => clock,
      write: async (key, jsonLines) => {
        bytes += Buffer.byteLength(jsonLines);
        objects++;
        await store.put('capture', key, jsonLines, 'application/x-ndjson');
      },
    });
    const names = columns.map((_, index) => `x${index}`);
    for (let start = 0; start < rows; start += ROWS_PER_REQUEST) {
      const inputs: Record<string, number>[] = [];
      const outputs: { value: number }[] = [];
      for (let row = start; row < Math.min(rows, start + ROWS_PER_REQUEST); row++) {
        const input: Record<string, number> = {};
        names.forEach((name, index) => {
          input[name] = columns[index]![row]!;
        });
        inputs.push(input);
        outputs.push({ value: 0 });
      }
      clock = WINDOW_START + Math.floor(((WINDOW_END - WINDOW_START - 1) * start) / rows);
      capture.add(`r${start}`, version.version, inputs, outputs);
      if (capture.due()) {
        const flushed = await capture.flush();
        if (flushed.error) throw flushed.error;
      }
    }
    const flushed = await capture.flush();
    if (flushed.error) throw flushed.error;

    const settings = benchDriftSettings(MODEL, names);
    const context = { store, registry, artifactsBucket: 'artifacts', captureBucket: 'capture' };
    const request = { model: MODEL, windowStart: new Date(WINDOW_START).toISOString(), windowEnd: new Date(WINDOW_END).toISOString() };
    const started = process.hrtime.bigint();
    const outcome = await checkDrift(context, settings, request);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (!('productionVersion' in outcome.result) || !outcome.verdict)
      throw new Error(`check-drift gave no verdict: ${JSON.stringify(outcome.result)}`);
    return { seconds, objects, megabytes: bytes / 1e6, result: outcome.result, verdict: outcome.verdict };
  } finally {
    await s3.stop();
  }
}
