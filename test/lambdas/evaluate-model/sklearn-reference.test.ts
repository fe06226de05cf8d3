/**
 * The evaluation metrics against scikit-learn's on recorded cases (test/fixtures/sklearn, made by
 * its generate.py with Debian's python3-sklearn; CI reads the JSON only): accuracy, precision,
 * recall and F1 (binary: of class 1; multiclass: macro over the labels in the data or the
 * predictions, zero_division=0), ROC-AUC with tied scores, one-vs-rest macro ROC-AUC, MAE, RMSE
 * and R² (a constant target included).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  binaryScores,
  confusionMatrix,
  macroRocAuc,
  multiclassScores,
  regressionScores,
  rocAuc,
} from '../../../lambdas/evaluate-model/metrics';

interface Fixtures {
  readonly sklearn: string;
  readonly binary: Array<{
    actual: number[];
    scores: number[];
    predicted: number[];
    accuracy: number;
    precision: number;
    recall: number;
    f1: number;
    rocAuc: number | null;
  }>;
  readonly multiclass: Array<{
    classes: number;
    actual: number[];
    probabilities: number[];
    predicted: number[];
    accuracy: number;
    precision: number;
    recall: number;
    f1: number;
    macroRocAuc: number;
    sklearnOvrMacro: number | null;
  }>;
  readonly regression: Array<{ actual: number[]; predicted: number[]; mae: number; rmse: number; r2: number }>;
}

const fixtures = JSON.parse(readFileSync(path.resolve(__dirname, '../../fixtures/sklearn/metrics.json'), 'utf8')) as Fixtures;
/** Float64 sums in another order: agreement to 12 significant digits. */
const close = (actual: number | undefined, expected: number) => expect(actual).toBeCloseTo(expected, 12);

describe(`evaluation metrics against scikit-learn ${fixtures.sklearn}`, () => {
  it.each(fixtures.binary.map((c, i) => [i, c.actual.length, c] as const))('binary case %i (%i rows)', (_, __, c) => {
    const scores = binaryScores(confusionMatrix(c.actual, c.predicted, 2));
    close(scores.accuracy, c.accuracy);
    close(scores.precision, c.precision);
    close(scores.recall, c.recall);
    close(scores.f1, c.f1);
    const area = rocAuc(
      c.scores,
      c.actual.map((label) => label === 1),
    );
    if (c.rocAuc === null) expect(area).toBeUndefined();
    else close(area, c.rocAuc);
  });

  it.each(fixtures.multiclass.map((c, i) => [i, c.actual.length, c.classes, c] as const))(
    'multiclass case %i (%i rows, %i classes)',
    (_, __, ___, c) => {
      const scores = multiclassScores(confusionMatrix(c.actual, c.predicted, c.classes));
      close(scores.accuracy, c.accuracy);
      close(scores.precision, c.precision);
      close(scores.recall, c.recall);
      close(scores.f1, c.f1);
      const area = macroRocAuc(c.probabilities, c.actual, c.classes);
      close(area, c.macroRocAuc);
      if (c.sklearnOvrMacro !== null) close(area, c.sklearnOvrMacro);
    },
  );

  it.each(fixtures.regression.map((c, i) => [i, c.actual.length, c] as const))('regression case %i (%i rows)', (_, __, c) => {
    const scores = regressionScores(c.actual, c.predicted);
    close(scores.mae, c.mae);
    close(scores.rmse, c.rmse);
    close(scores.r2, c.r2);
  });
});
