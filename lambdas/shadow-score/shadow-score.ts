/**
 * The shadow function's core: scores a request predict mirrored (production already answered it)
 * with the candidate version in shadow, and compares the candidate's answers with production's.
 * The candidate's session is loaded once per container and kept while the same version is asked
 * for. Its answers go nowhere but into the observation: the caller never sees them.
 */
import * as z from 'zod';
import { MAX_ROWS_PER_REQUEST } from '../../contracts/limits';
import type { VersionRecord } from '../../contracts/registry';
import type { ModelSchema } from '../../contracts/serving-schema';
import { ValidationError } from '../shared/errors';
import { encodeRows } from '../shared/serving/features';
import { toPredictions } from '../shared/serving/predictions';
import type { Scorer } from '../shared/serving/predictor';
import { type RegistryReader, resolveServedVersion } from '../shared/serving/served-version';
import { agreementOf, type MirrorRequest, type ShadowObservation } from '../shared/serving/shadow';

const version = z.number().int().positive();

export const mirrorRequestSchema = z
  .object({
    modelName: z.string().min(1),
    requestId: z.string().min(1),
    productionVersion: version,
    candidateVersion: version,
    instances: z.array(z.unknown()).min(1).max(MAX_ROWS_PER_REQUEST),
    production: z.array(z.union([z.string(), z.number(), z.boolean()])),
  })
  .strict()
  .refine((request) => request.production.length === request.instances.length, {
    message: 'production must hold one answer per row of instances',
    path: ['production'],
  });

export interface ShadowScoringOptions {
  readonly schema: ModelSchema;
  readonly registry: RegistryReader;
  /** Builds a scorer for a version (download, verify, create the session). */
  readonly loadScorer: (version: VersionRecord) => Promise<Scorer>;
  /** Regression: relative tolerance within which a value agrees (serving.shadowTolerance). */
  readonly tolerance: number;
  /** Clock for the candidate's latency. @default performance.now */
  readonly clock?: () => number;
}

export class ShadowScorer {
  private loaded: { readonly version: number; readonly scorer: Promise<Scorer> } | undefined;
  private readonly clock: () => number;

  constructor(private readonly options: ShadowScoringOptions) {
    this.clock = options.clock ?? (() => performance.now());
  }

  /** Parses a mirrored request (a malformed one is a ValidationError: a fault, not the candidate's). */
  parse(event: unknown): MirrorRequest {
    const parsed = mirrorRequestSchema.safeParse(event);
    if (!parsed.success) throw new ValidationError(`invalid mirrored request: ${z.prettifyError(parsed.error)}`);
    if (parsed.data.modelName !== this.options.schema.modelName) {
      throw new ValidationError(
        `mirrored request is for model "${parsed.data.modelName}"; this function shadows "${this.options.schema.modelName}"`,
      );
    }
    return parsed.data;
  }

  /**
   * The candidate's observation for one mirrored request: it failed when its artifact cannot be
   * loaded or it cannot score the rows (the rows themselves were valid: production answered them).
   */
  async observe(request: MirrorRequest): Promise<ShadowObservation> {
    const { schema, tolerance } = this.options;
    const candidate = request.candidateVersion;
    let started = this.clock();
    try {
      const encoded = encodeRows(schema, request.instances);
      const scorer = await this.scorerFor(candidate);
      started = this.clock();
      const scores = await scorer.score(encoded.values, encoded.rows, encoded.columns);
      const predictions = toPredictions(schema, scores, encoded.rows);
      const latencyMs = this.clock() - started;
      return {
        version: candidate,
        failed: false,
        latencyMs,
        ...agreementOf(schema.problemType, request.production, predictions, tolerance),
      };
    } catch (error) {
      return {
        version: candidate,
        failed: true,
        latencyMs: this.clock() - started,
        comparedRows: 0,
        agreeingRows: 0,
        error: error as Error,
      };
    }
  }

  /** The candidate's scorer, loaded once; a failed load is tried again by the next request. */
  private scorerFor(version: number): Promise<Scorer> {
    if (this.loaded?.version !== version) {
      const scorer = resolveServedVersion(this.options.registry, this.options.schema.modelName, version).then((record) =>
        this.options.loadScorer(record),
      );
      const loaded = { version, scorer };
      this.loaded = loaded;
      scorer.catch(() => {
        if (this.loaded === loaded) this.loaded = undefined;
      });
    }
    return this.loaded!.scorer;
  }
}
