/**
 * The registry request that keeps a drift check's verdict in the model's audit trail (its drift
 * history, and the registry's `Model Drift Verdict` event). One record per model and window end:
 * a repeated check of the same window replays the first.
 */
import type { DriftVerdictRequest } from '../../contracts/registry';
import type { DriftCheckResult } from './check-drift';

export function driftVerdictRequest(result: DriftCheckResult, actor: string): DriftVerdictRequest {
  const windowEnd = result.windowEnd ?? result.reportUri;
  return {
    modelName: result.model,
    actor,
    status: result.status,
    productionVersion: result.productionVersion,
    windowEnd: windowEnd.slice(0, 64),
    sampleSize: result.sampleSize,
    driftedFeatures: result.driftedFeatures,
    driftedFeatureShare: result.driftedFeatureShare,
    reportUri: result.reportUri,
    idempotencyKey: `drift:${(result.windowEnd ?? result.reportUri).replace(/[^A-Za-z0-9_.:@/-]/g, '-')}`.slice(0, 200),
  };
}
