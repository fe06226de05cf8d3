/**
 * What SageMaker instances cost: the platform's price table (on-demand USD per instance-hour),
 * the configuration's per-type overrides, and the arithmetic the idle-cost alarm and the
 * training-spend metrics share. Prices are list prices of one region on one date; a deployment
 * elsewhere, or after AWS changes a price, overrides them in `pricing.instanceHourUsd`.
 */
import * as z from 'zod';
import { INSTANCE_TYPE_PATTERN } from './fields';

/** The region and date the table's prices were taken. */
export const PRICES_REGION = 'us-east-1';
export const PRICES_TAKEN = '2026-12-01';

/** Hours AWS bills a month of an always-on instance with (365 × 24 / 12). */
export const HOURS_PER_MONTH = 730;

/**
 * On-demand USD per instance-hour in us-east-1, one price per type for training and real-time
 * hosting (where SageMaker prices the two apart, override). Only types whose price at least two
 * independent copies of the SageMaker pricing page agreed on are listed, except those in
 * SINGLE_SOURCE_PRICES; the larger ml.g4dn and ml.g5 sizes are left out because the copies
 * disagreed (docs/configuration.md, "Instance prices").
 */
export const INSTANCE_HOUR_USD: Readonly<Record<string, number>> = {
  'ml.m5.large': 0.115,
  'ml.m5.xlarge': 0.23,
  'ml.m5.2xlarge': 0.461,
  'ml.m5.4xlarge': 0.922,
  'ml.m5.12xlarge': 2.765,
  'ml.m5.24xlarge': 5.53,
  'ml.c5.large': 0.102,
  'ml.c5.xlarge': 0.204,
  'ml.c5.2xlarge': 0.408,
  'ml.c5.4xlarge': 0.816,
  'ml.c5.9xlarge': 1.836,
  'ml.c6i.large': 0.102,
  'ml.g4dn.xlarge': 0.736,
  'ml.g5.xlarge': 1.408,
  'ml.p3.2xlarge': 3.825,
  'ml.p3.8xlarge': 14.688,
  'ml.p3.16xlarge': 28.152,
};

/** Prices in the table with one source only (the serving default's type): verify before relying on them. */
export const SINGLE_SOURCE_PRICES: readonly string[] = ['ml.c6i.large'];

/** No SageMaker instance lists above this per hour; a larger figure is a typo (a monthly price, cents). */
export const MAX_INSTANCE_HOUR_USD = 1000;

export const pricingSchema = z
  .object({
    instanceHourUsd: z
      .record(z.string(), z.number().positive().max(MAX_INSTANCE_HOUR_USD))
      // Checked here rather than as the record's key schema, whose failure reads only "Invalid key in record".
      .superRefine((prices, ctx) => {
        for (const type of Object.keys(prices)) {
          if (!INSTANCE_TYPE_PATTERN.test(type)) {
            ctx.addIssue({
              code: 'custom',
              path: [type],
              message: `must be keyed by a SageMaker instance type such as ml.g5.xlarge, got "${type}"`,
            });
          }
        }
      })
      .default({})
      .describe(
        `on-demand USD per instance-hour by SageMaker instance type, over the platform's table (${PRICES_REGION}, ${PRICES_TAKEN}); every training and endpoint instance type must have a price`,
      ),
  })
  .strict();

export type PricingConfig = z.output<typeof pricingSchema>;

/** The price of an instance-hour: the override, else the table; undefined when neither has one. */
export function instanceHourUsd(instanceType: string, overrides: Readonly<Record<string, number>> = {}): number | undefined {
  // Own keys only: an instance type never names an inherited property, but a typo must not price as one.
  if (Object.hasOwn(overrides, instanceType)) return overrides[instanceType];
  return Object.hasOwn(INSTANCE_HOUR_USD, instanceType) ? INSTANCE_HOUR_USD[instanceType] : undefined;
}

/** The error text for a type with no price: which type, what uses it, and how to add the price. */
export function missingPriceMessage(instanceType: string, usedBy: string): string {
  return (
    `${usedBy} uses ${instanceType}, which has no price in the platform's table (${PRICES_REGION}, ${PRICES_TAKEN}); ` +
    `add its on-demand USD per hour as "pricing": { "instanceHourUsd": { "${instanceType}": <price> } } in the mlops configuration`
  );
}

/** The price of an instance-hour, or an Error naming the type and how to add its price. */
export function requireInstanceHourUsd(instanceType: string, usedBy: string, overrides: Readonly<Record<string, number>> = {}): number {
  const price = instanceHourUsd(instanceType, overrides);
  if (price === undefined) throw new Error(missingPriceMessage(instanceType, usedBy));
  return price;
}

/** What always-on instances cost a month: count × hourly price × 730. */
export function monthlyCostUsd(instanceCount: number, hourUsd: number): number {
  return instanceCount * hourUsd * HOURS_PER_MONTH;
}

/**
 * What a training job cost: SageMaker bills BillableTimeInSeconds per instance, so billable
 * seconds × instance count × hourly price / 3600.
 */
export function trainingCostUsd(billableSeconds: number, instanceCount: number, hourUsd: number): number {
  return (billableSeconds * instanceCount * hourUsd) / 3600;
}

/**
 * What managed spot saved against on-demand: the seconds trained but not billed
 * (TrainingTimeInSeconds − BillableTimeInSeconds, never below 0) at the on-demand price.
 */
export function spotSavingsUsd(trainingSeconds: number, billableSeconds: number, instanceCount: number, hourUsd: number): number {
  return trainingCostUsd(Math.max(0, trainingSeconds - billableSeconds), instanceCount, hourUsd);
}
