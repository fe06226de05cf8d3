/**
 * The Scorer backed by onnxruntime-node: one InferenceSession per model version, fed one
 * float32 tensor [rows, features] and read back from its first output.
 */
import { createRequire } from 'node:module';
import type * as Ort from 'onnxruntime-node';
import type { TrainingRanges } from '../../../contracts/serving-schema';
import type { ScoreTensor } from './predictions';
import type { Scorer } from './predictor';

/**
 * Loaded through `require`, not `import`: on Lambda the package lives in a layer under
 * /opt/nodejs/node_modules, which CommonJS resolution finds through NODE_PATH and ESM
 * resolution from the bundle's directory does not.
 */
const ort = createRequire(import.meta.url)('onnxruntime-node') as typeof Ort;

export class OnnxScorer implements Scorer {
  private constructor(
    private readonly session: Ort.InferenceSession,
    private readonly inputName: string,
    private readonly outputName: string,
    /** Columns the model's input tensor declares, when its second dimension is fixed. */
    readonly inputWidth: number | undefined,
    readonly trainingRanges: TrainingRanges | undefined,
  ) {}

  /** A session over the model; `trainingRanges` (from the artifact's serving-schema.json) come along for the range check. */
  static async create(modelBytes: Uint8Array, trainingRanges?: TrainingRanges): Promise<OnnxScorer> {
    const session = await ort.InferenceSession.create(modelBytes, {
      // Lambda gives a function one to six vCPUs by memory; spinning extra threads on one only adds contention.
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    const [inputName] = session.inputNames;
    const [outputName] = session.outputNames;
    if (!inputName || !outputName) throw new Error('the ONNX model must declare at least one input and one output');
    const shape = session.inputMetadata[0]?.isTensor ? session.inputMetadata[0].shape : [];
    const width = shape.length === 2 && typeof shape[1] === 'number' && shape[1] > 0 ? shape[1] : undefined;
    return new OnnxScorer(session, inputName, outputName, width, trainingRanges);
  }

  async score(values: Float32Array, rows: number, columns: number): Promise<ScoreTensor> {
    const outputs = await this.session.run({ [this.inputName]: new ort.Tensor('float32', values, [rows, columns]) });
    const output = outputs[this.outputName]!;
    return { data: output.data as Float32Array, dims: output.dims };
  }
}
