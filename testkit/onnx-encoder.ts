/**
 * Writes ONNX models without Python, for tests and benchmarks: the subset of onnx.proto they need
 * (graphs of standard operators over float and int64 tensors), encoded with
 * protobufjs using onnx.proto's own field numbers, and the `model.tar.gz` packing a SageMaker
 * training job produces.
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
            int64Data: { id: 7, type: 'int64', rule: 'repeated', options: { packed: true } },
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

/** onnx.TensorProto.DataType */
export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;
/** onnx.AttributeProto.AttributeType.INT */
const ATTRIBUTE_INT = 2;

export interface OnnxNode {
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Integer attributes (axis, to, …). */
  readonly attributes?: Readonly<Record<string, number>>;
}

export type OnnxInitializer =
  | { readonly name: string; readonly type: 'float'; readonly dims: readonly number[]; readonly values: readonly number[] }
  | { readonly name: string; readonly type: 'int64'; readonly dims: readonly number[]; readonly values: readonly number[] };

export interface OnnxGraph {
  readonly name: string;
  readonly producer: string;
  readonly nodes: readonly OnnxNode[];
  readonly initializers: readonly OnnxInitializer[];
  /** Float inputs and outputs; a string dimension is symbolic (e.g. "rows"). */
  readonly inputs: readonly { name: string; dims: readonly (number | string)[] }[];
  readonly outputs: readonly { name: string; dims: readonly (number | string)[] }[];
}

const tensorInfo = (name: string, dims: readonly (number | string)[]) => ({
  name,
  type: {
    tensorType: {
      elemType: ONNX_FLOAT,
      shape: { dim: dims.map((dim) => (typeof dim === 'number' ? { dimValue: dim } : { dimParam: dim })) },
    },
  },
});

/** Serialises the graph as ONNX protobuf bytes (IR version 8, default opset 17). */
export function encodeOnnxModel(graph: OnnxGraph): Uint8Array {
  const message = ModelProto.fromObject({
    irVersion: 8,
    producerName: graph.producer,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: graph.name,
      node: graph.nodes.map((node, index) => ({
        name: `${node.opType.toLowerCase()}_${index}`,
        opType: node.opType,
        input: [...node.inputs],
        output: [...node.outputs],
        attribute: Object.entries(node.attributes ?? {}).map(([name, value]) => ({ name, i: value, type: ATTRIBUTE_INT })),
      })),
      initializer: graph.initializers.map((tensor) =>
        tensor.type === 'float'
          ? { name: tensor.name, dataType: ONNX_FLOAT, dims: [...tensor.dims], floatData: [...tensor.values] }
          : { name: tensor.name, dataType: ONNX_INT64, dims: [...tensor.dims], int64Data: [...tensor.values] },
      ),
      input: graph.inputs.map((input) => tensorInfo(input.name, input.dims)),
      output: graph.outputs.map((output) => tensorInfo(output.name, output.dims)),
    },
  });
  return ModelProto.encode(message).finish();
}

/** Packs files as a SageMaker training job does: at the root of a gzipped tarball (`model.tar.gz`). */
export async function packModelArchive(files: Readonly<Record<string, Uint8Array | string>>): Promise<Uint8Array> {
  const directory = mkdtempSync(path.join(tmpdir(), 'model-archive-'));
  try {
    const names = Object.keys(files).sort();
    for (const name of names) writeFileSync(path.join(directory, name), files[name]!);
    const chunks: Buffer[] = [];
    const stream = create({ gzip: true, cwd: directory, portable: true }, names);
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
