/**
 * The folder `npm start` keeps its work in (`.mlops/` by default), so a user can train, stop,
 * come back, serve, predict and check drift on what an earlier run left, and open the reports,
 * validation reports and quarantined rows as files:
 *
 *   workspace.json    marks the folder as a workspace (a folder without it is never cleared)
 *   registry/         DynamoDB Local's database (-dbPath): the model registry
 *   buckets/          s3rver's folder: the datasets, artifacts, capture and assets buckets
 *   executions.json   the pipeline executions (their names stay unique, `mlops status` finds them)
 *   runs/             one folder per run (index.html, report.json, the executions' reports and
 *                     quarantine), and index.html / index.json listing the runs
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { type RunIndexEntry, runsIndexHtml } from './report';

export const DEFAULT_WORKSPACE = '.mlops';
const MARKER = 'workspace.json';
/** What --fresh removes: everything the workspace writes, nothing else. */
const OWNED = ['registry', 'buckets', 'executions.json', 'runs', MARKER];

export interface Workspace {
  readonly root: string;
  /** DynamoDB Local's -dbPath. */
  readonly registryDirectory: string;
  /** s3rver's folder. */
  readonly bucketsDirectory: string;
  readonly executionsFile: string;
  readonly runsDirectory: string;
}

/** A workspace that cannot be used as asked; its message is the one line `npm start` prints. */
export class WorkspaceError extends Error {
  override readonly name = 'WorkspaceError';
}

function layout(root: string): Workspace {
  return {
    root,
    registryDirectory: path.join(root, 'registry'),
    bucketsDirectory: path.join(root, 'buckets'),
    executionsFile: path.join(root, 'executions.json'),
    runsDirectory: path.join(root, 'runs'),
  };
}

/**
 * Opens (creating it when missing) the workspace at `root`; `fresh` first removes what an earlier
 * run kept. A folder that holds other files and no workspace.json is refused rather than used or
 * cleared.
 */
export function openWorkspace(root: string, options: { fresh?: boolean } = {}): Workspace {
  const absolute = path.resolve(root);
  if (existsSync(absolute)) {
    if (!statSync(absolute).isDirectory()) throw new WorkspaceError(`--workspace ${root}: is a file, not a folder`);
    const entries = readdirSync(absolute);
    if (entries.length > 0 && !entries.includes(MARKER)) {
      throw new WorkspaceError(
        `--workspace ${root}: the folder has files but is not an mlops workspace (no ${MARKER}); name a new or empty folder`,
      );
    }
    if (options.fresh) for (const entry of OWNED) rmSync(path.join(absolute, entry), { recursive: true, force: true });
  }
  const workspace = layout(absolute);
  for (const directory of [workspace.registryDirectory, workspace.bucketsDirectory, workspace.runsDirectory]) {
    mkdirSync(directory, { recursive: true });
  }
  const marker = path.join(absolute, MARKER);
  if (!existsSync(marker)) {
    writeFileSync(marker, `${JSON.stringify({ kind: 'cdk-mlops offline workspace', createdAt: new Date().toISOString() }, null, 1)}\n`);
  }
  return workspace;
}

/** A run's folder name: its start time and scenario, e.g. `2026-11-23T10-00-00Z-train` (a suffix when taken). */
export function newRunId(workspace: Workspace, scenario: string, startedAt: Date): string {
  const stamp = startedAt
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replaceAll(':', '-');
  const base = `${stamp}-${scenario}`;
  let id = base;
  for (let suffix = 2; existsSync(path.join(workspace.runsDirectory, id)); suffix++) id = `${base}-${suffix}`;
  return id;
}

export function readRunsIndex(workspace: Workspace): RunIndexEntry[] {
  const file = path.join(workspace.runsDirectory, 'index.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as RunIndexEntry[]) : [];
}

/**
 * Writes a run's files under runs/<id>/ (paths relative to it) and adds the run to the index
 * (index.json, and index.html linking every run's report). Returns the run's folder.
 */
export function recordRun(workspace: Workspace, entry: RunIndexEntry, files: Readonly<Record<string, string | Uint8Array>>): string {
  const directory = path.join(workspace.runsDirectory, entry.id);
  for (const [relative, body] of Object.entries(files)) {
    const file = path.join(directory, ...relative.split('/'));
    if (!file.startsWith(directory + path.sep)) throw new WorkspaceError(`a run file must stay inside its run folder: ${relative}`);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, body);
  }
  const runs = [...readRunsIndex(workspace).filter((run) => run.id !== entry.id), entry];
  writeFileSync(path.join(workspace.runsDirectory, 'index.json'), `${JSON.stringify(runs, null, 1)}\n`);
  writeFileSync(path.join(workspace.runsDirectory, 'index.html'), runsIndexHtml(runs));
  return directory;
}
