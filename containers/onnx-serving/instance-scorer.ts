/**
 * The Scorer of the serving container: an onnxruntime-node InferenceSession like the predict
 * Lambda's OnnxScorer (lambdas/shared/serving/onnx-scorer.ts), with one difference — its
 * intra-op thread pool spans every CPU, because the container owns its instance.
 */
import { createRequire } from 'node:module';
import type * as Ort from 'onnxruntime-node';
import type { ScoreTensor } from '../../lambdas/shared/serving/predictions';
import type { Scorer } from '../../lambdas/shared/serving/predictor';

/** Loaded through `require`, as the Lambda's scorer loads it: the package is CommonJS. */
const ort = createRequire(import.meta.url)('onnxruntime-node') as typeof Ort;

export class InstanceScorer implements Scorer {
  private constructor(
    private readonly session: Ort.InferenceSession,
    private readonly inputName: string,
    private readonly outputName: string,
    /** Columns the model's input tensor declares, when its second dimension is fixed. */
    readonly inputWidth: number | undefined,
  ) {}

  /**
   * The Lambda pins one thread: a function gets a fraction of a host and one request at a time.
   * A SageMaker instance runs this one container and nothing else, so a batch's rows are spread
   * over all its vCPUs (SageMaker sizes the fleet by invocations per instance, not by threads).
   */
  static async create(modelBytes: Uint8Array, threads: number): Promise<InstanceScorer> {
    const session = await ort.InferenceSession.create(modelBytes, {
      intraOpNumThreads: threads,
      // Sequential execution: the inter-op pool would only run independent graph branches.
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    const [inputName] = session.inputNames;
    const [outputName] = session.outputNames;
    if (!inputName || !outputName) throw new Error('the ONNX model must declare at least one input and one output');
    const shape = session.inputMetadata[0]?.isTensor ? session.inputMetadata[0].shape : [];
    const width = shape.length === 2 && typeof shape[1] === 'number' && shape[1] > 0 ? shape[1] : undefined;
    return new InstanceScorer(session, inputName, outputName, width);
  }

  async score(values: Float32Array, rows: number, columns: number): Promise<ScoreTensor> {
    const outputs = await this.session.run({ [this.inputName]: new ort.Tensor('float32', values, [rows, columns]) });
    const output = outputs[this.outputName]!;
    return { data: output.data as Float32Array, dims: output.dims };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
