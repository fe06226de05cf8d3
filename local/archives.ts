/** The gzipped tar archives SageMaker moves around: model.tar.gz out of a job, sourcedir.tar.gz into one. */
import { readdirSync } from 'node:fs';
import { create, extract } from 'tar';

/** Every entry at the top of `directory`, packed as SageMaker packs /opt/ml/model (paths relative to it). */
export async function packDirectory(directory: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const stream = create({ gzip: true, cwd: directory, portable: true }, readdirSync(directory).sort());
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Unpacks a gzipped tar into `directory`, as the training toolkit unpacks sagemaker_submit_directory. */
export async function unpackArchive(archive: string, directory: string): Promise<void> {
  await extract({ file: archive, cwd: directory, strict: true });
}
