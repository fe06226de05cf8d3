import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunIndexEntry } from '../../local/report';
import { newRunId, openWorkspace, readRunsIndex, recordRun, WorkspaceError } from '../../local/workspace';

const root = mkdtempSync(path.join(tmpdir(), 'workspace-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const entry = (id: string): RunIndexEntry => ({
  id,
  scenario: 'train',
  model: 'churn',
  startedAt: '2026-11-23T10:00:00.000Z',
  durationMs: 1000,
  outcome: 'succeeded',
  summary: '1 pipeline run(s)',
});

describe('the npm start workspace', () => {
  it('lays out the registry, buckets and runs folders, and marks itself', () => {
    const workspace = openWorkspace(path.join(root, 'new'));
    for (const folder of [workspace.registryDirectory, workspace.bucketsDirectory, workspace.runsDirectory])
      expect(existsSync(folder)).toBe(true);
    expect(JSON.parse(readFileSync(path.join(workspace.root, 'workspace.json'), 'utf8'))).toMatchObject({
      kind: 'cdk-mlops offline workspace',
    });
  });

  it('keeps what earlier runs left, and starts over with fresh, leaving files it does not own', () => {
    const at = path.join(root, 'kept');
    const first = openWorkspace(at);
    writeFileSync(path.join(first.registryDirectory, 'shared-local-instance.db'), 'tables');
    writeFileSync(path.join(at, 'notes.txt'), 'mine');
    expect(existsSync(path.join(openWorkspace(at).registryDirectory, 'shared-local-instance.db'))).toBe(true);
    const fresh = openWorkspace(at, { fresh: true });
    expect(existsSync(path.join(fresh.registryDirectory, 'shared-local-instance.db'))).toBe(false);
    expect(readFileSync(path.join(at, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('refuses a file, and a folder with files that is not a workspace', () => {
    writeFileSync(path.join(root, 'a-file'), '');
    expect(() => openWorkspace(path.join(root, 'a-file'))).toThrow(WorkspaceError);
    const foreign = path.join(root, 'foreign');
    mkdirSync(foreign);
    writeFileSync(path.join(foreign, 'data.csv'), 'x');
    expect(() => openWorkspace(foreign, { fresh: true })).toThrow(/is not an mlops workspace/);
    expect(existsSync(path.join(foreign, 'data.csv'))).toBe(true);
  });

  it('gives each run its own folder and lists every run in the index', () => {
    const workspace = openWorkspace(path.join(root, 'runs'));
    const started = new Date('2026-11-23T10:00:00.123Z');
    const first = newRunId(workspace, 'train', started);
    expect(first).toBe('2026-11-23T10-00-00Z-train');
    recordRun(workspace, entry(first), { 'index.html': '<p>1</p>', 'executions/train-1/quarantine/rows.jsonl': '{"row":2}\n' });
    const second = newRunId(workspace, 'train', started);
    expect(second).toBe('2026-11-23T10-00-00Z-train-2');
    recordRun(workspace, entry(second), { 'index.html': '<p>2</p>' });
    expect(readRunsIndex(workspace).map((run) => run.id)).toEqual([first, second]);
    expect(readFileSync(path.join(workspace.runsDirectory, first, 'executions', 'train-1', 'quarantine', 'rows.jsonl'), 'utf8')).toBe(
      '{"row":2}\n',
    );
    expect(readFileSync(path.join(workspace.runsDirectory, 'index.html'), 'utf8')).toContain(`${second}/index.html`);
    expect(() => recordRun(workspace, entry('x'), { '../escape.txt': '' })).toThrow(/inside its run folder/);
  });
});
