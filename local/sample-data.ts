/**
 * The demo's generated customer-churn data: the columns of the `churn` model in cdk.json, a
 * churn probability driven by tenure, charges, support calls, contract and segment (independent
 * of the sensitive attribute, so a fair model is possible), and a seeded generator so every run
 * of `npm start` sees the same rows. `drift` shifts the population the way a pricing change
 * would: higher charges, more month-to-month contracts, more support calls.
 */

export interface ChurnCustomer {
  readonly customer_id: string;
  readonly tenure_months: number;
  readonly monthly_charges: number;
  readonly total_spend: number;
  readonly support_calls: number;
  readonly segment: 'consumer' | 'small-business' | 'enterprise';
  readonly contract: 'month-to-month' | 'one-year' | 'two-year';
  readonly gender: 'female' | 'male' | 'other';
  readonly churned: 0 | 1;
}

export interface ChurnOptions {
  readonly rows: number;
  readonly seed?: number;
  /** 0 = the training population; 1 = the drifted population of the demo. */
  readonly drift?: number;
  /** First customer number, so generated batches do not repeat ids. */
  readonly firstId?: number;
}

/** mulberry32: small, fast, seedable. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

function pick<T>(random: () => number, values: readonly T[], weights: readonly number[]): T {
  let at = random() * weights.reduce((sum, weight) => sum + weight, 0);
  for (let index = 0; index < values.length; index++) {
    at -= weights[index]!;
    if (at <= 0) return values[index]!;
  }
  return values[values.length - 1]!;
}

const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, value));

export function generateChurn(options: ChurnOptions): ChurnCustomer[] {
  const random = seededRandom(options.seed ?? 42);
  const drift = options.drift ?? 0;
  const firstId = options.firstId ?? 1;
  const customers: ChurnCustomer[] = [];
  for (let n = 0; n < options.rows; n++) {
    const contract = pick(random, ['month-to-month', 'one-year', 'two-year'] as const, [
      0.45 + 0.3 * drift,
      0.3 - 0.15 * drift,
      0.25 - 0.15 * drift,
    ]);
    const segment = pick(random, ['consumer', 'small-business', 'enterprise'] as const, [0.6, 0.3, 0.1]);
    const gender = pick(random, ['female', 'male', 'other'] as const, [0.49, 0.49, 0.02]);
    const tenure = Math.round(
      clamp(
        -Math.log(Math.max(random(), 1e-9)) * (contract === 'two-year' ? 40 : contract === 'one-year' ? 25 : 12) * (1 - 0.3 * drift),
        0,
        120,
      ),
    );
    const charges = clamp(
      65 + 25 * gaussian(random) + (segment === 'enterprise' ? 60 : segment === 'small-business' ? 25 : 0) + 35 * drift,
      5,
      500,
    );
    const calls = Math.round(clamp(-Math.log(Math.max(random(), 1e-9)) * (1.5 + 2 * drift), 0, 100));
    const totalSpend = Math.round(tenure * charges * (0.9 + 0.2 * random()) * 100) / 100;
    const logit =
      -0.6 -
      0.09 * tenure +
      0.03 * (charges - 70) +
      0.7 * calls +
      (contract === 'month-to-month' ? 2.2 : contract === 'one-year' ? 0 : -2.5) +
      (segment === 'enterprise' ? -1 : 0);
    const churned = random() < 1 / (1 + Math.exp(-2 * logit)) ? 1 : 0;
    customers.push({
      customer_id: `C${String(firstId + n).padStart(7, '0')}`,
      tenure_months: tenure,
      monthly_charges: Math.round(charges * 100) / 100,
      total_spend: totalSpend,
      support_calls: calls,
      segment,
      contract,
      gender,
      churned,
    });
  }
  return customers;
}

const COLUMNS = [
  'customer_id',
  'tenure_months',
  'monthly_charges',
  'total_spend',
  'support_calls',
  'segment',
  'contract',
  'gender',
  'churned',
] as const;

/** Customers as CSV with a header: every column, or those given (batch inputs leave the label out). */
export function toCsv(customers: readonly ChurnCustomer[], columns: readonly (keyof ChurnCustomer)[] = COLUMNS): string {
  const lines = [columns.join(',')];
  for (const customer of customers) lines.push(columns.map((column) => customer[column]).join(','));
  return `${lines.join('\n')}\n`;
}
