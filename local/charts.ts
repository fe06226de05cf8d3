/**
 * Horizontal bar charts as inline SVG for the offline report (no scripts, no downloads). Every
 * chart has a labelled axis with ticks, and its scale is chosen by the caller, so charts of one
 * kind share one scale and a scale may start above 0 when the differences are what matters
 * (0.92 against 0.97) — the axis then says where it starts.
 */

export interface Scale {
  readonly min: number;
  readonly max: number;
  /** Printed under the axis: what the bars measure, and where the axis starts when not at 0. */
  readonly label: string;
  readonly ticks: readonly number[];
}

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A round step (1, 2, 2.5 or 5 times a power of ten) of about a fifth of the span. */
function stepFor(span: number): number {
  const raw = span / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 2.5, 5, 10].map((factor) => factor * magnitude).find((candidate) => candidate >= raw)!;
}

/** At most ~6 evenly spaced round values from min to max. */
function ticksFor(min: number, max: number): number[] {
  const step = stepFor(max - min);
  const ticks: number[] = [];
  for (let value = Math.ceil(min / step - 1e-9) * step; value <= max + step * 1e-9; value += step) ticks.push(Number(value.toFixed(10)));
  return ticks;
}

/** A scale from 0 to a round value above every value (PSI, errors). */
export function scaleFromZero(values: readonly number[], label: string): Scale {
  const top = Math.max(1e-9, ...values.filter(Number.isFinite));
  const step = stepFor(top);
  // The axis ends on the first tick past the highest value.
  const max = Number((Math.ceil((top * 1.02) / step) * step).toFixed(10));
  return { min: 0, max, label, ticks: ticksFor(0, max) };
}

/**
 * A scale for scores in [0, 1] (accuracy, F1, ROC AUC) that starts just under the lowest value,
 * on a multiple of 0.05, so that 0.92 and 0.97 look different; ends at 1.
 */
export function zoomedScoreScale(values: readonly number[], label: string): Scale {
  const finite = values.filter(Number.isFinite);
  const lowest = Math.min(1, ...finite);
  const min = Math.max(0, Math.floor((lowest - 0.02) / 0.05) * 0.05);
  const max = Math.max(1, ...finite);
  const note = min > 0 ? ` (the axis starts at ${min.toFixed(2)}, not 0)` : '';
  return { min: Number(min.toFixed(2)), max, label: `${label}${note}`, ticks: ticksFor(min, max) };
}

/** A scale spanning the values and the markers, with a margin (a ratio such as disparate impact). */
export function spanningScale(values: readonly number[], label: string): Scale {
  const finite = values.filter(Number.isFinite);
  const low = Math.min(...finite);
  const high = Math.max(...finite);
  const margin = Math.max((high - low) * 0.1, 0.05);
  const min = Math.max(0, Math.floor((low - margin) * 20) / 20);
  const max = Math.ceil((high + margin) * 20) / 20;
  const note = min > 0 ? ` (the axis starts at ${min.toFixed(2)}, not 0)` : '';
  return { min, max, label: `${label}${note}`, ticks: ticksFor(min, max) };
}

export interface BarSeries {
  readonly name: string;
  readonly values: readonly (number | null)[];
}

export interface BarChartOptions {
  readonly scale: Scale;
  /** Vertical lines across the chart (thresholds). */
  readonly markers?: readonly { value: number; label: string }[];
  /** A sentence under the title saying what the chart shows. */
  readonly description?: string;
}

const COLOURS = ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#dc2626', '#0891b2'];

/** Horizontal bars, one group per label, one bar per series, on the given scale. */
export function barChart(title: string, labels: readonly string[], series: readonly BarSeries[], options: BarChartOptions): string {
  const { scale } = options;
  const barHeight = 14;
  const groupHeight = series.length * barHeight + 10;
  const left = 150;
  const width = 460;
  const top = 20;
  const axisY = top + labels.length * groupHeight + 4;
  const height = axisY + 44;
  const x = (value: number) => left + ((Math.min(Math.max(value, scale.min), scale.max) - scale.min) / (scale.max - scale.min)) * width;
  const parts: string[] = [`<svg viewBox="0 0 ${left + width + 70} ${height}" role="img" aria-label="${escapeHtml(title)}">`];
  labels.forEach((label, group) => {
    const y = top + group * groupHeight;
    parts.push(`<text x="${left - 8}" y="${y + groupHeight / 2}" text-anchor="end" class="label">${escapeHtml(label)}</text>`);
    series.forEach((entry, index) => {
      const value = entry.values[group];
      if (value === null || value === undefined) return;
      const barWidth = Math.max(1, x(value) - left);
      const barY = y + index * barHeight;
      parts.push(
        `<rect x="${left}" y="${barY}" width="${barWidth.toFixed(1)}" height="${barHeight - 3}" fill="${COLOURS[index % COLOURS.length]}"/>`,
      );
      parts.push(`<text x="${(left + barWidth + 4).toFixed(1)}" y="${barY + barHeight - 4}" class="value">${value.toFixed(3)}</text>`);
    });
  });
  parts.push(`<line x1="${left}" x2="${left + width}" y1="${axisY}" y2="${axisY}" class="axis"/>`);
  for (const tick of scale.ticks) {
    const tickX = x(tick).toFixed(1);
    parts.push(`<line x1="${tickX}" x2="${tickX}" y1="${axisY}" y2="${axisY + 4}" class="axis"/>`);
    parts.push(`<text x="${tickX}" y="${axisY + 15}" text-anchor="middle" class="tick">${Number(tick.toFixed(3))}</text>`);
  }
  parts.push(`<text x="${left + width / 2}" y="${axisY + 34}" text-anchor="middle" class="axis-label">${escapeHtml(scale.label)}</text>`);
  for (const marker of options.markers ?? []) {
    const markerX = x(marker.value).toFixed(1);
    parts.push(`<line x1="${markerX}" x2="${markerX}" y1="12" y2="${axisY}" class="marker"/>`);
    parts.push(`<text x="${Number(markerX) + 3}" y="10" class="marker-label">${escapeHtml(marker.label)}</text>`);
  }
  parts.push('</svg>');
  const legend = series
    .map(
      (entry, index) => `<span class="key"><i style="background:${COLOURS[index % COLOURS.length]}"></i>${escapeHtml(entry.name)}</span>`,
    )
    .join(' ');
  const description = options.description ? `<p class="muted">${escapeHtml(options.description)}</p>` : '';
  return `<figure><figcaption>${escapeHtml(title)}</figcaption>${description}${parts.join('')}<div class="legend">${legend}</div></figure>`;
}
