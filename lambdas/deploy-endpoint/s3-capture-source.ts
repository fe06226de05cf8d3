/**
 * CaptureSource on S3: a variant's capture objects are under
 * `<DestinationS3Uri>/<EndpointName>/<VariantName>/yyyy/mm/dd/hh/` (UTC hour of the request), so
 * the window's hours are listed (ListObjectsV2, paginated) and each object read (GetObject) and
 * split into lines. Only the two calls the deploy function's role is granted on the capture prefix.
 */
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { variantCapturePrefix } from '../../contracts/endpoint-deployment';
import { parseS3Uri } from '../shared/object-store';
import type { CaptureSource } from './shadow-phase';

const HOUR_MS = 3_600_000;

/** The hour partitions `yyyy/mm/dd/hh/` a window [start, end] touches, in order. */
export function captureHourPartitions(start: Date, end: Date): string[] {
  const partitions: string[] = [];
  for (let hour = Math.floor(start.getTime() / HOUR_MS) * HOUR_MS; hour <= end.getTime(); hour += HOUR_MS) {
    const at = new Date(hour).toISOString();
    partitions.push(`${at.slice(0, 4)}/${at.slice(5, 7)}/${at.slice(8, 10)}/${at.slice(11, 13)}/`);
  }
  return partitions;
}

export class S3CaptureSource implements CaptureSource {
  constructor(private readonly client: S3Client) {}

  async *lines(span: {
    destinationS3Uri: string;
    endpointName: string;
    variantName: string;
    start: Date;
    end: Date;
  }): AsyncIterable<string> {
    const { bucket, key } = parseS3Uri(variantCapturePrefix(span.destinationS3Uri, span.endpointName, span.variantName), 'captureS3Uri');
    for (const partition of captureHourPartitions(span.start, span.end)) {
      let token: string | undefined;
      do {
        const page = await this.client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: `${key}${partition}`, ContinuationToken: token }),
        );
        for (const object of page.Contents ?? []) {
          const body = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key! }));
          const text = (await body.Body?.transformToString('utf8')) ?? '';
          yield* text.split('\n');
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    }
  }
}
