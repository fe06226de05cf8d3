/**
 * The shadow variant's agreement from SageMaker data capture: records of the two variants joined
 * per request (inferenceId, else eventId), answers compared row by row with the serverless rule,
 * unmatched and unreadable records counted and never compared, the window respected.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CaptureJoin, MAX_JOINED_RECORDS, parseCapturedAnswers } from '../../../lambdas/deploy-endpoint/shadow-capture';

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

  const metadata = { eventId: 'e-1', inferenceTime: '2026-12-01T10:15:00Z' };
  const withOutput = (endpointOutput: unknown) => JSON.stringify({ captureData: { endpointOutput }, eventMetadata: metadata });
  const withBody = (data: string) => withOutput({ data, encoding: 'JSON' });

  it.each([
    ['a JSON number', '5', 'not a JSON object'],
    ['JSON null', 'null', 'not a JSON object'],
    ['a record without eventMetadata', JSON.stringify({ captureData: {} }), 'no eventMetadata.eventId'],
    ['an empty eventId', JSON.stringify({ eventMetadata: { ...metadata, eventId: '' } }), 'no eventMetadata.eventId'],
    ['a numeric eventId', JSON.stringify({ eventMetadata: { ...metadata, eventId: 7 } }), 'no eventMetadata.eventId'],
    [
      'a time that is not a date',
      JSON.stringify({ eventMetadata: { ...metadata, inferenceTime: 'yesterday' } }),
      '"eventMetadata.inferenceTime" is not an ISO 8601 time',
    ],
    [
      'a time given as a number',
      JSON.stringify({ eventMetadata: { ...metadata, inferenceTime: 2026 } }),
      '"eventMetadata.inferenceTime" is not an ISO 8601 time',
    ],
    ['a record without captureData', JSON.stringify({ eventMetadata: metadata }), 'endpointOutput: missing (capture without Output mode?)'],
    ['a null endpointOutput', withOutput(null), 'endpointOutput: missing (capture without Output mode?)'],
    ['an endpointOutput without data', withOutput({ encoding: 'JSON' }), 'endpointOutput: "data" is not a string'],
    ['a body that is not JSON', withBody('{"predictions":'), expect.stringMatching(/^endpointOutput: body is not JSON: ./)],
    ['a JSON null body', withBody('null'), 'endpointOutput: body holds no "predictions" list'],
    ['a body without predictions', withBody('{"labels":[]}'), 'endpointOutput: body holds no "predictions" list'],
    ['a number among the predictions', withBody('[{"label":"yes"},5]'), 'endpointOutput: a prediction has neither "label" nor "value"'],
    ['a null prediction', withBody('{"predictions":[null]}'), 'endpointOutput: a prediction has neither "label" nor "value"'],
    [
      'a prediction without label or value',
      withBody('{"predictions":[{"probabilities":[1]}]}'),
      'endpointOutput: a prediction has neither "label" nor "value"',
    ],
  ])('refuses %s, saying why', (_, line, reason) => {
    expect(parseCapturedAnswers(line)).toEqual(reason);
  });

  it('reads a body that is a bare list of predictions, with labels or values', () => {
    expect(parseCapturedAnswers(withBody('[{"label":"yes"},{"value":2}]'))).toEqual({
      key: 'e-1',
      at: Date.parse('2026-12-01T10:15:00Z'),
      predictions: [{ label: 'yes' }, { value: 2 }],
    });
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

  it('counts a record at the window start and skips one at its end (the window is half-open)', () => {
    const join = new CaptureJoin('binary-classification', 0, WINDOW);
    const times = {
      start: '2026-12-01T10:00:00.000Z',
      last: '2026-12-01T10:59:59.999Z',
      end: '2026-12-01T11:00:00.000Z',
      after: '2026-12-01T12:00:00Z',
    };
    for (const [key, at] of Object.entries(times)) {
      join.addProductionLine(captureLine(key, [label('yes')], { at }));
      join.addShadowLine(captureLine(key, [label('yes')], { at }));
    }
    expect(join.result()).toEqual({ comparedRows: 2, agreeingRows: 2, joinedRequests: 2, unmatchedShadowRecords: 0, malformedLines: 0 });
  });

  it('joins a production record once: a repeated shadow record is unmatched', () => {
    const join = new CaptureJoin('binary-classification', 0, WINDOW);
    join.addProductionLine(captureLine('e-1', [label('yes')]));
    join.addShadowLine(captureLine('e-1', [label('yes')]));
    join.addShadowLine(captureLine('e-1', [label('no')]));
    expect(join.result()).toEqual({ comparedRows: 1, agreeingRows: 1, joinedRequests: 1, unmatchedShadowRecords: 1, malformedLines: 0 });
  });

  it('skips blank and whitespace-only lines without counting them', () => {
    const join = new CaptureJoin('binary-classification', 0, WINDOW);
    join.addProductionLine('   ');
    join.addShadowLine(' \t ');
    expect(join.result()).toEqual({ comparedRows: 0, agreeingRows: 0, joinedRequests: 0, unmatchedShadowRecords: 0, malformedLines: 0 });
  });

  it(`holds at most ${MAX_JOINED_RECORDS.toLocaleString('en')} production records: a shadow record of a later one is unmatched`, () => {
    const join = new CaptureJoin('binary-classification', 0, WINDOW);
    const line = captureLine('KEY', [label('yes')]);
    for (let index = 0; index <= MAX_JOINED_RECORDS; index++) join.addProductionLine(line.replace('KEY', `e-${index}`));
    join.addShadowLine(line.replace('KEY', `e-${MAX_JOINED_RECORDS - 1}`));
    join.addShadowLine(line.replace('KEY', `e-${MAX_JOINED_RECORDS}`));
    expect(join.result()).toMatchObject({ joinedRequests: 1, unmatchedShadowRecords: 1 });
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
    expect(join.result()).toEqual({
      comparedRows: 0,
      agreeingRows: 0,
      joinedRequests: 0,
      unmatchedShadowRecords: 0,
      malformedLines: 1,
      firstProblem: 'request e-1: production answered 2 rows and the shadow 1',
    });
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
