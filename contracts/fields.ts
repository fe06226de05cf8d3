/**
 * Field rules several contracts share: names that become parts of S3 keys, DynamoDB keys and
 * SageMaker job names; S3 URIs; SageMaker instance types; ECR image URIs. Each pattern is
 * defined once and used both as a zod schema and (as its source text) in the API's JSON schemas.
 */
import * as z from 'zod';
import { MAX_MODEL_NAME_LENGTH, RESOURCE_NAME_PATTERN, RESOURCE_NAME_RULE, S3_URI_PATTERN } from './limits';

export const resourceName = (maxLength: number) => z.string().min(1).max(maxLength).regex(RESOURCE_NAME_PATTERN, RESOURCE_NAME_RULE);
export const modelNameSchema = resourceName(MAX_MODEL_NAME_LENGTH);

export const s3UriSchema = z.string().regex(S3_URI_PATTERN, 'must be an s3://bucket/key URI');

/**
 * SageMaker instance types: `ml.<family>.<size>`, e.g. ml.g5.xlarge, ml.p4d.24xlarge, ml.m5.large.
 * The family list changes every year, so only the shape is checked.
 */
export const INSTANCE_TYPE_PATTERN = /^ml\.[a-z][a-z0-9-]*\.(nano|micro|small|medium|large|xlarge|[1-9][0-9]*xlarge)$/;
export const instanceTypeSchema = z
  .string()
  .regex(INSTANCE_TYPE_PATTERN, 'must be a SageMaker instance type such as ml.g5.xlarge (ml.<family>.<size>)');

/** An ECR image; `{region}` stands for the stack's region (the AWS Deep Learning Containers live in every region). */
export const ecrImageUriSchema = z
  .string()
  .regex(
    /^[0-9]{12}\.dkr\.ecr\.([a-z0-9-]+|\{region\})\.amazonaws\.com(\.cn)?\/[^\s:@]+([:@][^\s]+)?$/,
    'must be an ECR image URI (<account>.dkr.ecr.<region or {region}>.amazonaws.com/<repository>[:tag])',
  );

export const fractionSchema = z.number().min(0).max(1);

/** A broken rule of one setting: its path within the settings section, and what is wrong. */
export interface SettingProblem {
  readonly path: readonly string[];
  readonly message: string;
}
