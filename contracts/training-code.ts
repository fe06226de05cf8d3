/**
 * The training program's archive: what the `code` channel delivers and the SageMaker training
 * toolkit unpacks (`sagemaker_submit_directory`, a gzipped tar). The stack builds it at synth as
 * an S3 asset and the offline runtime builds the same archive, so both run the same files:
 * every file of the source folder but tests, caches and hidden files, in name order, with fixed
 * timestamps and owners (the same sources give the same bytes).
 */
import { mkdirSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { create } from 'tar';
import { PROJECT_ROOT } from './project-root';

/** The platform's own training program. */
export const TRAINING_SOURCE_DIRECTORY = path.join(PROJECT_ROOT, 'training');
/** The archive's file name, as the SageMaker SDK names it. */
export const TRAINING_CODE_ARCHIVE = 'sourcedir.tar.gz';

/** Paths (relative to the source folder, `/`-separated) left out of the archive. */
const EXCLUDED = [/^tests(\/|$)/, /(^|\/)__pycache__(\/|$)/, /(^|\/)\.[^/]+/, /\.pyc$/];

/** The files the archive holds, relative to the source folder, in name order. */
export function trainingCodeFiles(sourceDirectory: string): string[] {
  return readdirSync(sourceDirectory, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(sourceDirectory, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
    .filter((file) => !EXCLUDED.some((pattern) => pattern.test(file)))
    .sort();
}

/** Writes `<outputDirectory>/sourcedir.tar.gz` from the source folder; returns its path. */
export function writeTrainingCodeArchive(sourceDirectory: string, outputDirectory: string): string {
  const files = trainingCodeFiles(sourceDirectory);
  if (!files.some((file) => !file.includes('/') && file.endsWith('.py'))) {
    throw new Error(`the training source folder ${sourceDirectory} holds no Python entry point at its top level`);
  }
  mkdirSync(outputDirectory, { recursive: true });
  const archive = path.join(outputDirectory, TRAINING_CODE_ARCHIVE);
  create({ gzip: true, sync: true, file: archive, cwd: sourceDirectory, portable: true, mtime: new Date(0), noDirRecurse: true }, files);
  return archive;
}
