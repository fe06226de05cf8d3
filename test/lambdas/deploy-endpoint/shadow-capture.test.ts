/**
 * The shadow variant's agreement from SageMaker data capture: records of the two variants joined
 * per request (inferenceId, else eventId), answers compared row by row with the serverless rule,
 * unmatched and unreadable records counted and never compared, the window respected.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CaptureJoin, parseCapturedAnswers } from '../../../lambdas/deploy-endpoint/shadow-capture';

const WINDOW = { start: Date.parse('2026-12-01T10:00:00Z'), end: Date.parse('2026-12-01T11:00:00Z') };

function captureLine(
  eventId: string,
  predictions: unknown[],
  options: { at?: string; inferenceId?: string; encoding?: 'JSON' | 'BASE64' } = {},
): string {
  const body = JSON.stringify({ predictions });
  const encoding = options.encoding ?? 'JSON';
  return JSON.stringify({
    captureData: {
      endpointInput: { observedContentType: 'application/json', mode: 'INPUT', data: '{"instances":[]}', encoding: 'JSON' },
      endpointOutput: {
        observedContentType: 'application/json',
        mode: 'OUTPUT',
        data: encoding === 'BASE64' ? Buffer.from(body).toString('base64') : body,
        encoding,
      },
    },
    eventMetadata: {
      eventId,
      inferenceTime: options.at ?? '2026-12-01T10:15:00Z',
      ...(options.inferenceId ? { inferenceId: options.inferenceId } : {}),
    },
    eventVersion: '0',
  });
}

const label = (value: string) => ({ label: value, probabilities: [0.4, 0.6] });

describe('reading a captured record', () => {
  it('keys it by inferenceId when the caller set one, else by eventId', () => {
    expect(parseCapturedAnswers(captureLine('e-1', [label('yes')], { inferenceId: 'req-9' }))).toMatchObject({ key: 'req-9' });
    expect(parseCapturedAnswers(captureLine('e-1', [label('yes')]))).toMatchObject({
      key: 'e-1',
      at: Date.parse('2026-12-01T10:15:00Z'),
      predictions: [label('yes')],
    });
  });

  it('decodes a BASE64 body', () => {
    expect(parseCapturedAnswers(captureLine('e-1', [{ value: 3.5 }], { encoding: 'BASE64' }))).toMatchObject({
      predictions: [{ value: 3.5 }],
    });
  });

  it('says why a line is not a usable record', () => {
    expect(parseCapturedAnswers('{')).toMatch(/^not JSON/);
    expect(parseCapturedAnswers(JSON.stringify({ captureData: {}, eventMetadata: { inferenceTime: '2026-12-01T10:00:00Z' } }))).toBe(
      'no eventMetadata.eventId',
    );
    expect(
      parseCapturedAnswers(JSON.stringify({ captureData: {}, eventMetadata: { eventId: 'e', inferenceTime: '2026-12-01T10:00:00Z' } })),
    ).toBe('endpointOutput: missing (capture without Output mode?)');
  });
});

describe('joining the two variants', () => {
  it('compares the rows of requests both variants answered, and counts the rest', () => {
    const join = new CaptureJoin('binary-classification', 0, WINDOW);
    join.addProductionLine(captureLine('e-1', [label('yes'), label('no')]));
    join.addProductionLine(captureLine('e-2', [label('no')]));
    join.addProductionLine(captureLine('e-3', [label('no')], { at: '2026-12-01T09:59:59Z' }));
    join.addShadowLine(captureLine('e-1', [label('yes'), label('yes')]));
    join.addShadowLine(captureLine('e-2', [label('no')]));
    join.addShadowLine(captureLine('e-3', [label('no')], { at: '2026-12-01T09:59:59Z' }));
    join.addShadowLine(captureLine('e-4', [label('no')]));
    join.addShadowLine('not json');
    join.addShadowLine('');
    expect(join.result()).toEqual({
      comparedRows: 3,
      agreeingRows: 2,
      joinedRequests: 2,
      unmatchedShadowRecords: 1,
      malformedLines: 1,
      firstProblem: expect.stringMatching(/^not JSON/),
    });
  });

  it('compares regression values within the relative tolerance', () => {
    const join = new CaptureJoin('regression', 0.05, WINDOW);
    join.addProductionLine(captureLine('e-1', [{ value: 100 }, { value: 100 }, { value: 0 }]));
    join.addShadowLine(captureLine('e-1', [{ value: 104.9 }, { value: 106 }, { value: 0 }]));
    expect(join.result()).toMatchObject({ comparedRows: 3, agreeingRows: 2 });
  });

  it('holds at most 50,000 production records: a shadow record for a later one is counted unmatched', () => {
    const join = new CaptureJoin('binary-classification', 0, WINDOW);
    for (let index = 0; index <= 50_000; index++) join.addProductionLine(captureLine(`p-${index}`, [label('yes')]));
    join.addShadowLine(captureLine('p-49999', [label('yes')]));
    join.addShadowLine(captureLine('p-50000', [label('yes')]));
    expect(join.result()).toMatchObject({ joinedRequests: 1, comparedRows: 1, agreeingRows: 1, unmatchedShadowRecords: 1 });
  });

  it('does not compare a request whose variants answered different row counts', () => {
    const join = new CaptureJoin('binary-classification', 0, WINDOW);
    join.addProductionLine(captureLine('e-1', [label('yes'), label('no')]));
    join.addShadowLine(captureLine('e-1', [label('yes')]));
    expect(join.result()).toMatchObject({ comparedRows: 0, joinedRequests: 0, malformedLines: 1 });
  });

  it('agrees on exactly the rows with the same label, whatever the order records arrive in (property)', () => {
    const labels = fc.constantFrom('yes', 'no');
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.tuple(labels, labels), { minLength: 1, maxLength: 5 }), { maxLength: 30 }),
        fc.integer(),
        (requests, seed) => {
          const join = new CaptureJoin('binary-classification', 0, WINDOW);
          for (const [index, rows] of requests.entries()) {
            join.addProductionLine(
              captureLine(
                `e-${index}`,
                rows.map(([p]) => label(p)),
              ),
            );
          }
          const order = requests.map((_, index) => index).sort((a, b) => ((a * 7919 + seed) % 31) - ((b * 7919 + seed) % 31));
          for (const index of order)
            join.addShadowLine(
              captureLine(
                `e-${index}`,
                requests[index]!.map(([, s]) => label(s)),
              ),
            );
          const rows = requests.flat();
          expect(join.result()).toMatchObject({
            comparedRows: rows.length,
            agreeingRows: rows.filter(([p, s]) => p === s).length,
            joinedRequests: requests.length,
            unmatchedShadowRecords: 0,
          });
        },
      ),
    );
  });
});
