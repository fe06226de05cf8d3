/**
 * Small, real ONNX models for tests and benchmarks (no model file may be downloaded): a linear
 * model over a float tensor `features` [rows, n], followed by Sigmoid (binary), Softmax
 * (multiclass) or nothing (regression), written with the encoder in onnx-encoder.ts.
 */
import { encodeOnnxModel, type OnnxNode, packModelArchive as packFiles, sha256Hex } from './onnx-encoder';

export { sha256Hex };

export type LinearModelKind = 'binary' | 'multiclass' | 'regression';

export interface LinearModelSpec {
  readonly kind: LinearModelKind;
  /** weights[feature][output]; one output column for binary and regression. */
  readonly weights: readonly (readonly number[])[];
  readonly bias: readonly number[];
  /** @default 'features' */
  readonly inputName?: string;
  /** @default 'scores' */
  readonly outputName?: string;
}

export function buildLinearModel(spec: LinearModelSpec): Uint8Array {
  const featureCount = spec.weights.length;
  const outputCount = spec.bias.length;
  if (featureCount === 0 || spec.weights.some((row) => row.length !== outputCount)) {
    throw new Error(`weights must be [features][${outputCount}] to match bias`);
  }
  const inputName = spec.inputName ?? 'features';
  const outputName = spec.outputName ?? 'scores';
  const linearName = spec.kind === 'regression' ? outputName : 'linear';
  const nodes: OnnxNode[] = [
    { opType: 'MatMul', inputs: [inputName, 'W'], outputs: ['product'] },
    { opType: 'Add', inputs: ['product', 'B'], outputs: [linearName] },
  ];
  if (spec.kind === 'binary') nodes.push({ opType: 'Sigmoid', inputs: [linearName], outputs: [outputName] });
  if (spec.kind === 'multiclass') nodes.push({ opType: 'Softmax', inputs: [linearName], outputs: [outputName], attributes: { axis: 1 } });
  return encodeOnnxModel({
    name: `linear-${spec.kind}`,
    producer: 'cdk-mlops-test',
    nodes,
    initializers: [
      { name: 'W', type: 'float', dims: [featureCount, outputCount], values: spec.weights.flat() },
      { name: 'B', type: 'float', dims: [outputCount], values: [...spec.bias] },
    ],
    inputs: [{ name: inputName, dims: ['rows', featureCount] }],
    outputs: [{ name: outputName, dims: ['rows', outputCount] }],
  });
}

/** Packs ONNX bytes as training does: `model.onnx` at the root of a gzipped tarball. */
export function packModelArchive(modelBytes: Uint8Array, fileName = 'model.onnx'): Promise<Uint8Array> {
  return packFiles({ [fileName]: modelBytes });
}
