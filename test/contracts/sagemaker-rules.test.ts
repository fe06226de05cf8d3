/**
 * SageMaker's CreateEndpointConfig rules for shadow variants, as the deploy function checks them
 * before it sends a request (the same refusal offline as on AWS): one shadow variant, exactly one
 * production variant beside it, distinct variant names, instance-based real-time variants only
 * (no ServerlessConfig, no AsyncInferenceConfig), and a sampling share of at most 100%.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createEndpointConfigProblems,
  type EndpointConfigRequestFields,
  SHADOW_VARIANT_LIMITS,
  shadowVariantWeight,
} from '../../contracts/sagemaker-rules';

const production = { VariantName: 'AllTraffic', InstanceType: 'ml.c6i.large', InitialVariantWeight: 1 };
const shadow = { VariantName: 'AllTraffic-shadow', InstanceType: 'ml.c6i.large', InitialVariantWeight: 0.2 };
const valid: EndpointConfigRequestFields = {
  EndpointConfigName: 'mlopsdev-endpointchurn-4b7c52bc-v2-s0123456789ab',
  KmsKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/abc',
  ProductionVariants: [production],
  ShadowProductionVariants: [shadow],
};

describe('CreateEndpointConfig with ShadowProductionVariants', () => {
  it('accepts one production variant and one shadow variant sampled 20%', () => {
    expect(createEndpointConfigProblems(valid)).toEqual([]);
  });

  it('refuses a second shadow variant', () => {
    const problems = createEndpointConfigProblems({
      ...valid,
      ShadowProductionVariants: [shadow, { ...shadow, VariantName: 'AllTraffic-shadow-2' }],
    });
    expect(problems).toEqual([
      "Value '2 variants' at 'shadowProductionVariants' failed to satisfy constraint: Member must have length less than or equal to 1",
    ]);
  });

  it('refuses a shadow variant beside two production variants', () => {
    const problems = createEndpointConfigProblems({ ...valid, ProductionVariants: [production, { ...production, VariantName: 'Blue' }] });
    expect(problems).toEqual([
      'An endpoint configuration with ShadowProductionVariants must have exactly 1 variant in ProductionVariants, got 2',
    ]);
  });

  it('refuses a shadow variant named like the production variant', () => {
    const problems = createEndpointConfigProblems({ ...valid, ShadowProductionVariants: [{ ...shadow, VariantName: 'AllTraffic' }] });
    expect(problems).toEqual([
      'Variant names must be unique across ProductionVariants and ShadowProductionVariants, got ["AllTraffic","AllTraffic"]',
    ]);
  });

  it('refuses a serverless variant on either side', () => {
    const serverless = { MemorySizeInMB: 2048, MaxConcurrency: 5 };
    expect(createEndpointConfigProblems({ ...valid, ShadowProductionVariants: [{ ...shadow, ServerlessConfig: serverless }] })).toEqual([
      'Variant AllTraffic-shadow is serverless (ServerlessConfig); shadow variants are supported only on instance-based real-time endpoints',
    ]);
    expect(createEndpointConfigProblems({ ...valid, ProductionVariants: [{ ...production, ServerlessConfig: serverless }] })).toHaveLength(
      1,
    );
  });

  it('refuses a shadow variant on an asynchronous endpoint', () => {
    expect(createEndpointConfigProblems({ ...valid, AsyncInferenceConfig: { OutputConfig: { S3OutputPath: 's3://out/' } } })).toEqual([
      'An asynchronous inference endpoint (AsyncInferenceConfig) cannot have ShadowProductionVariants',
    ]);
  });

  it('refuses a shadow weight that would replicate more than all requests, or none', () => {
    expect(createEndpointConfigProblems({ ...valid, ShadowProductionVariants: [{ ...shadow, InitialVariantWeight: 1.5 }] })).toEqual([
      "Shadow variant AllTraffic-shadow would sample 150% of requests (InitialVariantWeight 1.5 against the production variant's 1); at most 100% can be replicated",
    ]);
    expect(createEndpointConfigProblems({ ...valid, ShadowProductionVariants: [{ ...shadow, InitialVariantWeight: 0 }] })).toEqual([
      "Value '0' at 'shadowProductionVariants.initialVariantWeight' failed to satisfy constraint: Member must have value greater than 0",
    ]);
  });

  it('applies the local-storage KmsKeyId rule to the shadow variant too', () => {
    const problems = createEndpointConfigProblems({ ...valid, ShadowProductionVariants: [{ ...shadow, InstanceType: 'ml.g5.xlarge' }] });
    expect(problems).toEqual([
      'Instance type ml.g5.xlarge has local instance storage; a KmsKeyId cannot be specified for an endpoint configuration that uses it (CreateEndpointConfig.KmsKeyId)',
    ]);
  });

  it('leaves a configuration without shadow variants to the other rules', () => {
    expect(
      createEndpointConfigProblems({
        ...valid,
        ShadowProductionVariants: undefined,
        ProductionVariants: [production, { ...production, VariantName: 'B' }],
      }),
    ).toEqual([]);
  });

  it('weights a shadow so SageMaker samples exactly shadowPercent of requests, which the rules always accept', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: SHADOW_VARIANT_LIMITS.maxSamplingPercent }), (percent) => {
        const weight = shadowVariantWeight(percent);
        expect((100 * weight) / production.InitialVariantWeight).toBeCloseTo(percent, 10);
        expect(createEndpointConfigProblems({ ...valid, ShadowProductionVariants: [{ ...shadow, InitialVariantWeight: weight }] })).toEqual(
          [],
        );
      }),
    );
  });
});
