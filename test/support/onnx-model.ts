/**
 * Builds small, real ONNX models in memory (tests and benchmarks need a model that
 * onnxruntime loads and scores, and no model file may be downloaded): a linear model over a
 * float tensor `features` [rows, n], followed by Sigmoid (binary), Softmax (multiclass) or
 * nothing (regression). The protobuf schema below is the subset of onnx.proto these graphs use,
 * with onnx.proto's own field numbers.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import protobuf from 'protobufjs';
import { create } from 'tar';

const ONNX_SUBSET = {
  nested: {
    onnx: {
      nested: {
        ModelProto: {
          fields: {
            irVersion: { id: 1, type: 'int64' },
            producerName: { id: 2, type: 'string' },
            graph: { id: 7, type: 'GraphProto' },
            opsetImport: { id: 8, type: 'OperatorSetIdProto', rule: 'repeated' },
          },
        },
        OperatorSetIdProto: { fields: { domain: { id: 1, type: 'string' }, version: { id: 2, type: 'int64' } } },
        GraphProto: {
          fields: {
            node: { id: 1, type: 'NodeProto', rule: 'repeated' },
            name: { id: 2, type: 'string' },
            initializer: { id: 5, type: 'TensorProto', rule: 'repeated' },
            input: { id: 11, type: 'ValueInfoProto', rule: 'repeated' },
            output: { id: 12, type: 'ValueInfoProto', rule: 'repeated' },
          },
        },
        NodeProto: {
          fields: {
            input: { id: 1, type: 'string', rule: 'repeated' },
            output: { id: 2, type: 'string', rule: 'repeated' },
            name: { id: 3, type: 'string' },
            opType: { id: 4, type: 'string' },
            attribute: { id: 5, type: 'AttributeProto', rule: 'repeated' },
          },
        },
        AttributeProto: {
          fields: { name: { id: 1, type: 'string' }, i: { id: 3, type: 'int64' }, type: { id: 20, type: 'int32' } },
        },
        TensorProto: {
          fields: {
            dims: { id: 1, type: 'int64', rule: 'repeated' },
            dataType: { id: 2, type: 'int32' },
            floatData: { id: 4, type: 'float', rule: 'repeated', options: { packed: true } },
            name: { id: 8, type: 'string' },
          },
        },
        ValueInfoProto: { fields: { name: { id: 1, type: 'string' }, type: { id: 2, type: 'TypeProto' } } },
        TypeProto: { fields: { tensorType: { id: 1, type: 'TensorTypeProto' } } },
        TensorTypeProto: { fields: { elemType: { id: 1, type: 'int32' }, shape: { id: 2, type: 'TensorShapeProto' } } },
        TensorShapeProto: { fields: { dim: { id: 1, type: 'Dimension', rule: 'repeated' } } },
        Dimension: { fields: { dimValue: { id: 1, type: 'int64' }, dimParam: { id: 2, type: 'string' } } },
      },
    },
  },
};

const ModelProto = protobuf.Root.fromJSON(ONNX_SUBSET).lookupType('onnx.ModelProto');

/** onnx.TensorProto.DataType.FLOAT */
const FLOAT = 1;
/** onnx.AttributeProto.AttributeType.INT */
const ATTRIBUTE_INT = 2;

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

const tensorInfo = (name: string, dims: (number | string)[]) => ({
  name,
  type: {
    tensorType: {
      elemType: FLOAT,
      shape: { dim: dims.map((dim) => (typeof dim === 'number' ? { dimValue: dim } : { dimParam: dim })) },
    },
  },
});

/** Serialises the model as ONNX protobuf bytes (IR version 8, default opset 17). */
export function buildLinearModel(spec: LinearModelSpec): Uint8Array {
  const featureCount = spec.weights.length;
  const outputCount = spec.bias.length;
  if (featureCount === 0 || spec.weights.some((row) => row.length !== outputCount)) {
    throw new Error(`weights must be [features][${outputCount}] to match bias`);
  }
  const inputName = spec.inputName ?? 'features';
  const outputName = spec.outputName ?? 'scores';
  const linearName = spec.kind === 'regression' ? outputName : 'linear';
  const nodes: object[] = [
    { name: 'matmul', opType: 'MatMul', input: [inputName, 'W'], output: ['product'] },
    { name: 'add', opType: 'Add', input: ['product', 'B'], output: [linearName] },
  ];
  if (spec.kind === 'binary') nodes.push({ name: 'sigmoid', opType: 'Sigmoid', input: [linearName], output: [outputName] });
  if (spec.kind === 'multiclass') {
    nodes.push({
      name: 'softmax',
      opType: 'Softmax',
      input: [linearName],
      output: [outputName],
      attribute: [{ name: 'axis', i: 1, type: ATTRIBUTE_INT }],
    });
  }
  const message = ModelProto.fromObject({
    irVersion: 8,
    producerName: 'cdk-mlops-test',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: `linear-${spec.kind}`,
      node: nodes,
      initializer: [
        { name: 'W', dataType: FLOAT, dims: [featureCount, outputCount], floatData: spec.weights.flat() },
        { name: 'B', dataType: FLOAT, dims: [outputCount], floatData: [...spec.bias] },
      ],
      input: [tensorInfo(inputName, ['rows', featureCount])],
      output: [tensorInfo(outputName, ['rows', outputCount])],
    },
  });
  return ModelProto.encode(message).finish();
}

/** Packs ONNX bytes as training does: `model.onnx` at the root of a gzipped tarball. */
export async function packModelArchive(modelBytes: Uint8Array, fileName = 'model.onnx'): Promise<Uint8Array> {
  const directory = mkdtempSync(path.join(tmpdir(), 'model-archive-'));
  try {
    writeFileSync(path.join(directory, fileName), modelBytes);
    const chunks: Buffer[] = [];
    const stream = create({ gzip: true, cwd: directory, portable: true }, [fileName]);
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
