/**
 * evaluate-model end to end: real ONNX logistic models built here, packed as SageMaker's
 * model.tar.gz, scored by onnxruntime-node through the function's entry point against s3rver
 * (artifacts, holdout, report) and DynamoDB Local (the registry's production champion).
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { EvaluateContext, EvaluationReport, EvaluationResult } from '../../../lambdas/evaluate-model/evaluate-model';
import { evaluate, publishEvaluationMetrics, trainingPriceFromEnvironment } from '../../../lambdas/evaluate-model/handler';
import { DynamoDbRegistryStore } from '../../../lambdas/shared/registry/dynamodb-registry-store';
import { Registry } from '../../../lambdas/shared/registry/registry-service';
import { S3ObjectStore } from '../../../lambdas/shared/s3-object-store';
import { OnnxScorer } from '../../../lambdas/shared/serving/onnx-scorer';
import { createRegistryTable, LOCAL_AWS } from '../../../local/dynamodb-local';
import { type RunningS3Local, startS3Local } from '../../../local/s3-local';
import { CHURN_WEIGHTS, type ChurnRow, churnModelBytes, churnProbability, churnRows } from '../../../testkit/churn-model';
import { buildLinearModel, packModelArchive, sha256Hex } from '../../../testkit/onnx-model';

const ACTOR = 'arn:aws:iam::123456789012:role/pipeline';

const modelEntry = (name: string, thresholds: object = { metrics: { accuracy: { min: 0.85 }, f1: { min: 0.8 } } }) => ({
  name,
  problemType: 'binary-classification',
  columns: [
    { name: 'customer_id', type: 'string' },
    { name: 'tenure_months', type: 'integer', min: 0, max: 120 },
    { name: 'monthly_charges', type: 'number', min: 0 },
    { name: 'contract', type: 'category', allowedValues: ['month-to-month', 'one-year', 'two-year'] },
    { name: 'auto_pay', type: 'boolean', nullable: true },
    { name: 'gender', type: 'category', allowedValues: ['F', 'M'] },
    { name: 'churned', type: 'integer', min: 0, max: 1 },
  ],
  target: 'churned',
  sensitiveAttribute: 'gender',
  features: ['tenure_months', 'monthly_charges', 'contract', 'auto_pay'],
  thresholds,
  // The pipeline's model document carries more than evaluation needs; unknown keys are dropped.
  dataset: { minRows: 10 },
});

interface LabelledRow extends ChurnRow {
  churned: number;
  gender: 'F' | 'M';
}

/**
 * 400 rows labelled by the reference model, every 20th label flipped (accuracy 0.95). `fair`
 * spreads each predicted class evenly over F and M (disparate impact 1); otherwise nine tenths
 * of the predicted positives are F (a disparity no sampling noise explains).
 */
function labelledRows(fair: boolean): LabelledRow[] {
  const seen = [0, 0];
  return churnRows(400, 11).map((row, index) => {
    const predicted = churnProbability(row) >= 0.5 ? 1 : 0;
    const k = seen[predicted]!++;
    const gender = fair || predicted === 0 ? (k % 2 === 0 ? 'F' : 'M') : k % 10 === 0 ? 'M' : 'F';
    return { ...row, churned: index % 20 === 0 ? 1 - predicted : predicted, gender };
  });
}

function toCsv(rows: readonly LabelledRow[], extraLines: readonly string[] = []): string {
  const lines = rows.map(
    (row, index) => `c${index},${row.tenure_months},${row.monthly_charges},${row.contract},${row.auto_pay},${row.gender},${row.churned}`,
  );
  return `customer_id,tenure_months,monthly_charges,contract,auto_pay,gender,churned\n${[...lines, ...extraLines].join('\n')}\n`;
}

/** Reference scores in plain JavaScript, independent of onnxruntime and of the metric code. */
function referenceScores(rows: readonly LabelledRow[], weights: readonly number[] = CHURN_WEIGHTS) {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (const row of rows) {
    const predicted = churnProbability(row, weights) >= 0.5 ? 1 : 0;
    if (predicted === 1 && row.churned === 1) tp++;
    else if (predicted === 1) fp++;
    else if (row.churned === 1) fn++;
    else tn++;
  }
  const precision = tp / (tp + fp);
  const recall = tp / (tp + fn);
  // ROC-AUC as the share of (positive, negative) pairs ranked correctly, ties counting one half.
  const scores = rows.map((row) => churnProbability(row, weights));
  let wins = 0;
  let pairs = 0;
  rows.forEach((positive, i) => {
    if (positive.churned !== 1) return;
    rows.forEach((negative, j) => {
      if (negative.churned !== 0) return;
      pairs++;
      wins += scores[i]! > scores[j]! ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    });
  });
  return {
    accuracy: (tp + tn) / rows.length,
    precision,
    recall,
    f1: (2 * precision * recall) / (precision + recall),
    rocAuc: wins / pairs,
  };
}

describe('evaluate-model on s3rver and DynamoDB Local', () => {
  const tableName = `evaluate-${Date.now()}`;
  let s3Local: RunningS3Local;
  let s3: S3Client;
  let dynamo: DynamoDBClient;
  let registry: Registry;
  let context: EvaluateContext;
  let goodArchive: Uint8Array;
  const fairRows = labelledRows(true);
  const biasedRows = labelledRows(false);

  const put = async (bucket: string, key: string, body: Uint8Array | string) =>
    void (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body })));
  const getText = async (uri: string) => {
    const [, bucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri)!;
    return (await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString())!;
  };
  const event = (overrides: Record<string, unknown> = {}) => ({
    model: modelEntry('churn'),
    artifactUri: 's3://artifacts/models/churn/job-1/output/model.tar.gz',
    holdoutUri: 's3://datasets/churn/holdout.csv',
    trainingJobName: 'mlops-dev-churn-job-1',
    billableSeconds: 600,
    trainingSeconds: 2400,
    runId: 'run-1',
    ...overrides,
  });
  /** Registers a version of `modelName` whose artifact is `archive` and makes it the production version. */
  const promoteChampion = async (
    modelName: string,
    archive: Uint8Array,
    options: { sha256?: string; metrics?: Record<string, number> } = {},
  ) => {
    const key = `models/${modelName}/champion/output/model.tar.gz`;
    await put('artifacts', key, archive);
    const version = await registry.registerVersion({
      modelName,
      artifactUri: `s3://artifacts/${key}`,
      artifactSha256: options.sha256 ?? sha256Hex(archive),
      metrics: options.metrics ?? {},
      lineage: { datasetUri: 's3://datasets/churn/train.csv', datasetEtag: '"1"' },
      actor: ACTOR,
    });
    await registry.promote({ modelName, version: version.version, actor: ACTOR });
    return version.version;
  };

  beforeAll(async () => {
    s3Local = await startS3Local({ buckets: ['artifacts', 'datasets'] });
    s3 = s3Local.client();
    dynamo = new DynamoDBClient({ ...LOCAL_AWS, endpoint: inject('dynamoDbEndpoint') });
    await createRegistryTable(dynamo, tableName);
    const documents = DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });
    const store = new DynamoDbRegistryStore(documents, tableName);
    registry = new Registry(store);
    context = {
      store: new S3ObjectStore(s3),
      registry: store,
      artifactsBucket: 'artifacts',
      loadModel: (bytes) => OnnxScorer.create(bytes),
    };

    goodArchive = await packModelArchive(churnModelBytes());
    await put('artifacts', 'models/churn/job-1/output/model.tar.gz', goodArchive);
    // A null target and a contract outside allowedValues: both skipped and counted.
    const extra = ['c-null,10,50,one-year,true,F,', 'c-bad,10,50,lifetime,true,M,0'];
    await put('datasets', 'churn/holdout.csv', toCsv(fairRows, extra));
    await put('datasets', 'churn/biased.csv', toCsv(biasedRows));
    await put('datasets', 'churn/parts/part-1.csv', toCsv(fairRows.slice(0, 150)));
    await put('datasets', 'churn/parts/part-2.csv', toCsv(fairRows.slice(150)));
  }, 60_000);

  afterAll(async () => {
    s3.destroy();
    dynamo.destroy();
    await s3Local.stop();
  });

  it('passes a model that meets its thresholds, with metrics equal to the reference computation', async () => {
    const reference = referenceScores(fairRows);
    expect(reference.accuracy).toBe(0.95);
    const result = await evaluate(event(), context);
    expect(result.passed).toBe(true);
    expect(result.reasons).toEqual([]);
    expect(result.champion).toBeNull();
    for (const metric of ['accuracy', 'precision', 'recall', 'f1'] as const)
      expect(result.metrics[metric]).toBeCloseTo(reference[metric], 12);
    // float32 scoring may reorder probabilities closer than its precision; none are in this data.
    expect(result.metrics.rocAuc).toBeCloseTo(reference.rocAuc, 9);
    expect(result.metrics.holdoutRows).toBe(400);
    expect(result.metrics.disparateImpact).toBe(1);
    expect(result.metrics['accuracy.gender=F']).toBeTypeOf('number');
    expect(result.spotSavings).toBe(0.75);
    expect(result.reportUri).toBe('s3://artifacts/reports/churn/run-1/evaluation-report.json');
    expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThan(16 * 1024);
  });

  it('counts every skipped row and shows the first 20 of them in the report', async () => {
    const nullTargets = Array.from({ length: 25 }, (_, i) => `c-null-${i},10,50,one-year,true,F,`);
    await put('datasets', 'churn/many-skips.csv', toCsv(fairRows, nullTargets));
    const result = await evaluate(event({ holdoutUri: 's3://datasets/churn/many-skips.csv', runId: 'run-skips' }), context);
    const report = JSON.parse(await getText(result.reportUri)) as EvaluationReport;
    expect(report.skippedRows).toMatchObject({ nullTarget: 25, total: 25 });
    expect(report.skippedRows.examples).toHaveLength(20);
    expect(report.skippedRows.examples[19]).toBe('churn/many-skips.csv row 420: churned is empty');
  });

  it('records the SHA-256 of the artifact bytes', async () => {
    const result = await evaluate(event(), context);
    expect(result.artifactSha256).toBe(sha256Hex(goodArchive));
    expect(result.artifactSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('writes the full report: skipped rows, confusion matrix, per-group table and disparate impact', async () => {
    const result = await evaluate(event(), context);
    const report = JSON.parse(await getText(result.reportUri)) as EvaluationReport;
    expect(report.evaluatedRows).toBe(400);
    expect(report.skippedRows).toMatchObject({ nullTarget: 1, invalidTarget: 0, invalidFeature: 1, unreadable: 0, total: 2 });
    expect(report.skippedRows.examples).toEqual([
      'churn/holdout.csv row 401: churned is empty',
      'churn/holdout.csv row 402: contract "lifetime" cannot be encoded',
    ]);
    const counts = report.confusionMatrix!.counts;
    expect(counts.flat().reduce((sum, count) => sum + count, 0)).toBe(400);
    expect(counts[0]![0]! + counts[1]![1]!).toBe(380);
    expect(report.groups.map((group) => [group.group, group.rows])).toEqual([
      ['F', 200],
      ['M', 200],
    ]);
    expect(report.disparateImpact).toMatchObject({
      reference: { group: 'F', rows: 200 },
      ratios: [{ group: 'M', rows: 200, ratio: 1 }],
      value: 1,
      confidence: 0.95,
      allowed: [0.8, 1.25],
    });
    expect(report.training).toEqual({ trainingSeconds: 2400, billableSeconds: 600, spotSavings: 0.75 });
  });

  it('returns the same result and rewrites the same report for a repeated event (holdout given as a prefix)', async () => {
    const repeated = event({ holdoutUri: 's3://datasets/churn/parts/', runId: 'run-prefix' });
    const first = await evaluate(repeated, context);
    const firstReport = await getText(first.reportUri);
    const second = await evaluate(repeated, context);
    expect(second).toEqual(first);
    expect(await getText(second.reportUri)).toBe(firstReport);
    expect((JSON.parse(firstReport) as EvaluationReport).holdoutObjects.map((object) => object.key)).toEqual([
      'churn/parts/part-1.csv',
      'churn/parts/part-2.csv',
    ]);
    expect(first.metrics.accuracy).toBe(0.95);
  });

  it('fails the gate with one reason per failed check when a bound and the disparate impact are missed', async () => {
    const result = await evaluate(
      event({
        model: modelEntry('churn', { metrics: { accuracy: { min: 0.99 } } }),
        holdoutUri: 's3://datasets/churn/biased.csv',
        runId: 'run-biased',
      }),
      context,
    );
    const [female, male] = (['F', 'M'] as const).map((gender) => {
      const group = biasedRows.filter((row) => row.gender === gender);
      return { rows: group.length, rate: group.filter((row) => churnProbability(row) >= 0.5).length / group.length };
    });
    // F is the larger group, so the reference; M's ratio against it, with Katz's 95% interval.
    const ratio = male!.rate / female!.rate;
    const spread =
      1.959963984540054 * Math.sqrt((1 - male!.rate) / (male!.rows * male!.rate) + (1 - female!.rate) / (female!.rows * female!.rate));
    const upper = ratio * Math.exp(spread);
    expect(upper).toBeLessThan(0.8);
    expect(result.passed).toBe(false);
    expect(result.metrics.disparateImpact).toBeCloseTo(ratio, 12);
    expect(result.reasons).toEqual([
      'accuracy 0.95 is below the minimum 0.99',
      `disparate impact of gender "M" against "F" is ${Number(ratio.toFixed(4))} (95% interval ${Number((ratio * Math.exp(-spread)).toFixed(4))}–${Number(upper.toFixed(4))}, ${male!.rows} vs ${female!.rows} rows), outside [0.8, 1.25]`,
    ]);
  });

  it('re-scores the production champion on the same holdout and rejects a challenger worse than it', async () => {
    const version = await promoteChampion('churn-ab', goodArchive);
    const worseWeights = [CHURN_WEIGHTS[0], CHURN_WEIGHTS[1], 0.8, CHURN_WEIGHTS[3]];
    await put('artifacts', 'models/churn-ab/job-2/output/model.tar.gz', await packModelArchive(churnModelBytes(worseWeights)));
    const challenger = referenceScores(fairRows, worseWeights);
    const result = await evaluate(
      event({
        model: modelEntry('churn-ab', {}),
        artifactUri: 's3://artifacts/models/churn-ab/job-2/output/model.tar.gz',
        runId: 'run-ab',
      }),
      context,
    );
    expect(result.champion).toMatchObject({ version, rescored: true });
    expect(result.champion!.metrics.accuracy).toBe(0.95);
    expect(result.metrics.accuracy).toBeCloseTo(challenger.accuracy, 12);
    expect(result.passed).toBe(false);
    expect(result.reasons).toContain(
      `accuracy ${Number(challenger.accuracy.toFixed(4))} is worse than the production version ${version} (0.95) by more than the margin 0.01`,
    );
    const report = JSON.parse(await getText(result.reportUri)) as EvaluationReport;
    expect(report.champion).toMatchObject({ version, rescored: true, gatedMetrics: ['accuracy', 'f1'] });
    expect(report.champion!.comparisons.find((comparison) => comparison.metric === 'accuracy')).toMatchObject({
      champion: 0.95,
      passed: false,
    });
  });

  it('passes a challenger as good as the champion', async () => {
    await put('artifacts', 'models/churn-ab/job-3/output/model.tar.gz', goodArchive);
    const result = await evaluate(
      event({
        model: modelEntry('churn-ab', {}),
        artifactUri: 's3://artifacts/models/churn-ab/job-3/output/model.tar.gz',
        runId: 'run-ab-2',
      }),
      context,
    );
    expect(result.passed).toBe(true);
    expect(result.champion).toMatchObject({ rescored: true, metrics: { accuracy: 0.95 } });
  });

  it('falls back to the champion recorded metrics when its artifact fails verification, and says so in the report', async () => {
    const version = await promoteChampion('churn-tampered', goodArchive, {
      sha256: 'f'.repeat(64),
      metrics: { accuracy: 0.99, f1: 0.97, 'accuracy.gender=F': 0.99 },
    });
    const result = await evaluate(event({ model: modelEntry('churn-tampered', {}), runId: 'run-tampered' }), context);
    expect(result.champion).toEqual({ version, rescored: false, metrics: { accuracy: 0.99, f1: 0.97 } });
    expect(result.reasons[0]).toBe(`accuracy 0.95 is worse than the production version ${version} (0.99) by more than the margin 0.01`);
    const report = JSON.parse(await getText(result.reportUri)) as EvaluationReport;
    expect(report.champion!.note).toMatch(
      /could not be re-scored on this holdout \(artifact .* has SHA-256 .*\); compared with the metrics recorded/,
    );
  });

  it('throws NotFoundError for a missing artifact or holdout', async () => {
    await expect(evaluate(event({ artifactUri: 's3://artifacts/models/churn/none/output/model.tar.gz' }), context)).rejects.toMatchObject({
      name: 'NotFoundError',
      message: 'object s3://artifacts/models/churn/none/output/model.tar.gz does not exist',
    });
    await expect(evaluate(event({ holdoutUri: 's3://datasets/churn/missing.csv' }), context)).rejects.toMatchObject({
      name: 'NotFoundError',
    });
    await expect(evaluate(event({ holdoutUri: 's3://datasets/empty/' }), context)).rejects.toMatchObject({
      name: 'NotFoundError',
      message: 'no holdout objects under s3://datasets/empty/',
    });
  });

  it('refuses an artifact without model.onnx and a model whose input width differs from the features', async () => {
    await put('artifacts', 'models/churn/no-onnx/output/model.tar.gz', await packModelArchive(churnModelBytes(), 'weights.onnx'));
    await expect(
      evaluate(event({ artifactUri: 's3://artifacts/models/churn/no-onnx/output/model.tar.gz' }), context),
    ).rejects.toMatchObject({
      name: 'ArtifactIntegrityError',
      message: 's3://artifacts/models/churn/no-onnx/output/model.tar.gz holds no model.onnx at its root',
    });
    const threeInputs = buildLinearModel({ kind: 'binary', weights: [[0.1], [0.2], [0.3]], bias: [0] });
    await put('artifacts', 'models/churn/narrow/output/model.tar.gz', await packModelArchive(threeInputs));
    await expect(evaluate(event({ artifactUri: 's3://artifacts/models/churn/narrow/output/model.tar.gz' }), context)).rejects.toMatchObject(
      {
        name: 'ModelContractError',
        message:
          "s3://artifacts/models/churn/narrow/output/model.tar.gz: the model's input takes 3 features, the configuration names 4 (tenure_months, monthly_charges, contract, auto_pay)",
      },
    );
  });

  it('refuses a bad event or model entry with a ValidationError naming the field', async () => {
    await expect(evaluate(event({ holdoutUri: 'datasets/holdout.csv' }), context)).rejects.toMatchObject({
      name: 'ValidationError',
      message: 'invalid evaluate-model event: holdoutUri: must be an S3 URI: s3://<bucket>/<key or prefix/>',
    });
    await expect(evaluate(event({ model: { ...modelEntry('churn'), target: 'label' } }), context)).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringMatching(/^the model entry does not parse: model\.target: must name one of the columns/),
    });
  });

  it('publishes EvaluationPassed, SpotSavingsPercent, TrainingSeconds and BillableSeconds as EMF under CdkMlops, dimension Model', () => {
    const metrics = new Metrics({ namespace: 'CdkMlops', serviceName: 'evaluate-model' });
    let emitted: ReturnType<Metrics['serializeMetrics']> | undefined;
    vi.spyOn(metrics, 'publishStoredMetrics').mockImplementation(function (this: Metrics) {
      emitted = this.serializeMetrics();
      return this;
    });
    const result: EvaluationResult = {
      passed: false,
      metrics: {},
      reasons: ['x'],
      artifactSha256: 'a'.repeat(64),
      spotSavings: 0.75,
      reportUri: 's3://artifacts/r',
      champion: null,
    };
    publishEvaluationMetrics(metrics, 'churn', result, { trainingSeconds: 2400, billableSeconds: 600 });
    const directive = emitted!._aws.CloudWatchMetrics[0]!;
    expect(directive.Namespace).toBe('CdkMlops');
    expect(directive.Dimensions[0]).toContain('Model');
    expect(directive.Metrics).toEqual(
      expect.arrayContaining([
        { Name: 'EvaluationPassed', Unit: 'Count' },
        { Name: 'SpotSavingsPercent', Unit: 'Percent' },
        { Name: 'TrainingSeconds', Unit: 'Seconds' },
        { Name: 'BillableSeconds', Unit: 'Seconds' },
      ]),
    );
    expect(emitted).toMatchObject({
      Model: 'churn',
      EvaluationPassed: 0,
      SpotSavingsPercent: 75,
      TrainingSeconds: 2400,
      BillableSeconds: 600,
    });
  });

  const emittedBy = (publish: (metrics: Metrics) => void) => {
    const metrics = new Metrics({ namespace: 'CdkMlops', serviceName: 'evaluate-model' });
    let emitted: ReturnType<Metrics['serializeMetrics']> | undefined;
    vi.spyOn(metrics, 'publishStoredMetrics').mockImplementation(function (this: Metrics) {
      emitted = this.serializeMetrics();
      return this;
    });
    publish(metrics);
    return emitted!;
  };
  const passedResult: EvaluationResult = {
    passed: true,
    metrics: {},
    reasons: [],
    artifactSha256: 'b'.repeat(64),
    spotSavings: 0.75,
    reportUri: 's3://artifacts/r',
    champion: null,
  };

  it("publishes the run's TrainingCostUsd and SpotSavingsUsd at the training price, with the training job as metadata", () => {
    // 2 x ml.g5.xlarge ($1.408/h), trained 2400 s, billed 600 s: spend 600 x 2 x 1.408 / 3600, savings 1800 x 2 x 1.408 / 3600.
    const emitted = emittedBy((metrics) =>
      publishEvaluationMetrics(metrics, 'churn', passedResult, {
        trainingSeconds: 2400,
        billableSeconds: 600,
        trainingJobName: 'churn-run-7',
        price: { instanceHourUsd: 1.408, instanceCount: 2 },
      }),
    );
    const directive = emitted._aws.CloudWatchMetrics[0]!;
    expect(directive.Dimensions).toEqual([['service', 'Model']]);
    expect(directive.Metrics).toEqual(
      expect.arrayContaining([
        { Name: 'TrainingCostUsd', Unit: 'None' },
        { Name: 'SpotSavingsUsd', Unit: 'None' },
      ]),
    );
    expect(emitted).toMatchObject({ Model: 'churn', trainingJobName: 'churn-run-7' });
    expect(emitted.TrainingCostUsd).toBeCloseTo(0.469333, 6);
    expect(emitted.SpotSavingsUsd).toBeCloseTo(1.408, 9);
  });

  it('publishes no spend without a price or without billable seconds, and spend without savings when training seconds are unknown', () => {
    const names = (emitted: ReturnType<Metrics['serializeMetrics']>) =>
      emitted._aws.CloudWatchMetrics[0]!.Metrics.map((metric) => metric.Name);
    const noPrice = emittedBy((metrics) =>
      publishEvaluationMetrics(metrics, 'churn', passedResult, { trainingSeconds: 2400, billableSeconds: 600 }),
    );
    expect(names(noPrice)).not.toContain('TrainingCostUsd');
    expect(names(noPrice)).not.toContain('SpotSavingsUsd');
    const price = { instanceHourUsd: 0.23, instanceCount: 1 };
    const noBillable = emittedBy((metrics) =>
      publishEvaluationMetrics(metrics, 'churn', passedResult, { trainingSeconds: 2400, billableSeconds: null, price }),
    );
    expect(names(noBillable)).not.toContain('TrainingCostUsd');
    const noTraining = emittedBy((metrics) =>
      publishEvaluationMetrics(metrics, 'churn', passedResult, { trainingSeconds: null, billableSeconds: 3600, price }),
    );
    expect(names(noTraining)).toContain('TrainingCostUsd');
    expect(names(noTraining)).not.toContain('SpotSavingsUsd');
    expect(noTraining.TrainingCostUsd).toBeCloseTo(0.23, 12);
  });

  it('reads the training price the construct sets, none when unset, and refuses a malformed one', () => {
    expect(trainingPriceFromEnvironment({ TRAINING_INSTANCE_HOUR_USD: '1.408', TRAINING_INSTANCE_COUNT: '2' })).toEqual({
      instanceHourUsd: 1.408,
      instanceCount: 2,
    });
    expect(trainingPriceFromEnvironment({})).toBeUndefined();
    expect(() => trainingPriceFromEnvironment({ TRAINING_INSTANCE_HOUR_USD: '-1', TRAINING_INSTANCE_COUNT: '1' })).toThrow(
      'TRAINING_INSTANCE_HOUR_USD must be a positive price and TRAINING_INSTANCE_COUNT a positive integer, got "-1" and "1"',
    );
    expect(() => trainingPriceFromEnvironment({ TRAINING_INSTANCE_HOUR_USD: '1.408' })).toThrow('got "1.408" and undefined');
  });
});
