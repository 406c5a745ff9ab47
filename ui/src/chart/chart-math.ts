// Pure chart logic: smoothing, downsampling, scales, ticks, lookups. No DOM, so every
// function is unit-tested (chart-math.test.ts) and the canvas code only draws.

export interface XY {
  x: number;
  y: number;
}

/**
 * Exponential moving average with TensorBoard's debiasing: `weight` 0 is the raw series,
 * 0.99 very smooth. Non-finite values are passed through and do not disturb the average.
 */
export function ema(values: readonly number[], weight: number): number[] {
  if (weight <= 0) return values.slice();
  const w = Math.min(weight, 0.999);
  let last = 0;
  let debias = 0;
  return values.map((v) => {
    if (!Number.isFinite(v)) return v;
    last = last * w + (1 - w) * v;
    debias = debias * w + (1 - w);
    return last / debias;
  });
}

/**
 * Keep at most four points per pixel column (the first, lowest, highest and last of the
 * column, in x order) of points sorted by x: the drawn line looks the same as with every
 * point, extremes included. `columns` is the plot width in pixels.
 */
export function downsample(points: readonly XY[], x0: number, x1: number, columns: number): XY[] {
  if (points.length <= columns * 4 || columns <= 0 || !(x1 > x0)) return points.slice();
  const out: XY[] = [];
  const width = (x1 - x0) / columns;
  let i = 0;
  while (i < points.length) {
    const first = points[i] as XY;
    const column = Math.floor((first.x - x0) / width);
    let min = first;
    let max = first;
    let last = first;
    let j = i + 1;
    for (; j < points.length; j++) {
      const p = points[j] as XY;
      if (Math.floor((p.x - x0) / width) !== column) break;
      if (p.y < min.y) min = p;
      if (p.y > max.y) max = p;
      last = p;
    }
    const kept = [first, min, max, last].filter((p, k, all) => all.indexOf(p) === k);
    kept.sort((a, b) => a.x - b.x);
    out.push(...kept);
    i = j;
  }
  return out;
}

/** A map from data values to pixels, with its inverse and its tick values. */
export interface Scale {
  readonly domain: readonly [number, number];
  readonly log: boolean;
  map(value: number): number;
  invert(pixel: number): number;
  ticks(count: number): number[];
}

export function linearScale(d0: number, d1: number, r0: number, r1: number): Scale {
  const span = d1 - d0 || 1;
  return {
    domain: [d0, d1],
    log: false,
    map: (v) => r0 + ((v - d0) / span) * (r1 - r0),
    invert: (p) => d0 + ((p - r0) / (r1 - r0)) * span,
    ticks: (count) => niceTicks(d0, d1, count),
  };
}

/** Log-10 scale; the domain must be positive. */
export function logScale(d0: number, d1: number, r0: number, r1: number): Scale {
  const l0 = Math.log10(d0);
  const l1 = Math.log10(d1);
  const span = l1 - l0 || 1;
  return {
    domain: [d0, d1],
    log: true,
    map: (v) => r0 + ((Math.log10(v) - l0) / span) * (r1 - r0),
    invert: (p) => 10 ** (l0 + ((p - r0) / (r1 - r0)) * span),
    ticks: () => logTicks(d0, d1),
  };
}

/** About `count` round tick values (1, 2 or 5 times a power of ten apart) in [min, max]. */
export function niceTicks(min: number, max: number, count: number): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max) || count < 1) return [];
  if (min === max) return [min];
  const raw = (max - min) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  // d3's thresholds: the multiple nearest the raw step on a log scale.
  const error = raw / power;
  const step = (error >= Math.sqrt(50) ? 10 : error >= Math.sqrt(10) ? 5 : error >= Math.sqrt(2) ? 2 : 1) * power;
  const out: number[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step) {
    out.push(Math.abs(t) < step * 1e-9 ? 0 : Number(t.toPrecision(12)));
  }
  return out;
}

/** Powers of ten in [min, max]; with fewer than three, 2x and 5x as well. */
export function logTicks(min: number, max: number): number[] {
  if (!(min > 0) || !(max >= min)) return [];
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  const inRange = (v: number) => v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9);
  const decades: number[] = [];
  for (let e = lo; e <= hi; e++) decades.push(10 ** e);
  const powers = decades.filter(inRange);
  if (powers.length >= 3) return powers;
  return decades
    .flatMap((d) => [d, 2 * d, 5 * d])
    .filter(inRange)
    .map((v) => Number(v.toPrecision(12)));
}

/** The smallest and largest finite y of the series (positive only for a log axis), padded. */
export function yExtent(series: readonly (readonly XY[])[], log: boolean): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (const points of series) {
    for (const p of points) {
      if (!Number.isFinite(p.y) || (log && p.y <= 0)) continue;
      if (p.y < min) min = p.y;
      if (p.y > max) max = p.y;
    }
  }
  if (min === Infinity) return log ? [0.1, 1] : [0, 1];
  if (log) return min === max ? [min / 2, max * 2] : [min, max];
  if (min === max) return [min - 1, max + 1];
  const pad = (max - min) * 0.05;
  return [min - pad, max + pad];
}

export function xExtent(series: readonly (readonly XY[])[]): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (const points of series) {
    const first = points[0];
    const last = points[points.length - 1];
    if (first && first.x < min) min = first.x;
    if (last && last.x > max) max = last.x;
  }
  if (min === Infinity) return [0, 1];
  return min === max ? [min - 1, max + 1] : [min, max];
}

/** Index of the point whose x is nearest `x`, in points sorted by x; -1 when empty. */
export function nearestIndex(points: readonly XY[], x: number): number {
  if (points.length === 0) return -1;
  let lo = 0;
  let hi = points.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((points[mid] as XY).x < x) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && Math.abs((points[lo - 1] as XY).x - x) <= Math.abs((points[lo] as XY).x - x)) return lo - 1;
  return lo;
}

/** A step axis point: what had been seen, and when, at a step. */
export interface AxisPoint {
  step: number;
  examples: number;
  wall_s: number;
}

/**
 * `examples` or `wall_s` at `step`, linearly interpolated on the run's step axis
 * (extrapolated from the nearest end, and proportionally from 0 before the first point).
 */
export function atStep(axis: readonly AxisPoint[], step: number, key: "examples" | "wall_s"): number {
  const first = axis[0];
  const last = axis[axis.length - 1];
  if (!first || !last) return Number.NaN;
  if (step <= first.step) return first.step === 0 ? first[key] : (first[key] * step) / first.step;
  if (step >= last.step) {
    if (axis.length < 2 || last.step === 0) return last[key];
    return (last[key] * step) / last.step;
  }
  const i = nearestIndex(axis.map((a) => ({ x: a.step, y: 0 })), step);
  const near = axis[i] as AxisPoint;
  const other = axis[near.step <= step ? i + 1 : i - 1] as AxisPoint;
  const [a, b] = near.step <= step ? [near, other] : [other, near];
  return a[key] + ((step - a.step) / (b.step - a.step)) * (b[key] - a[key]);
}

/** Short tick labels: 1.2k, 3M, 0.001, 1e-5. */
export function formatTick(value: number): string {
  if (value === 0) return "0";
  const magnitude = Math.abs(value);
  if (magnitude >= 1e6) return `${Number((value / 1e6).toPrecision(3))}M`;
  if (magnitude >= 1e4) return `${Number((value / 1e3).toPrecision(3))}k`;
  if (magnitude < 1e-3) return value.toExponential(0);
  return String(Number(value.toPrecision(4)));
}

/**
 * The x range selected by dragging from pixel `p0` to `p1` on scale `x`, in either
 * direction, kept within `full`; null for a drag shorter than `minPixels` (a click).
 */
export function dragRange(x: Scale, p0: number, p1: number, full: readonly [number, number], minPixels = 5): [number, number] | null {
  if (!Number.isFinite(p0) || !Number.isFinite(p1) || Math.abs(p1 - p0) < minPixels) return null;
  const a = Math.max(full[0], Math.min(x.invert(p0), x.invert(p1)));
  const b = Math.min(full[1], Math.max(x.invert(p0), x.invert(p1)));
  return b > a ? [a, b] : null;
}

/** The x range to draw: the zoom when it still overlaps the data, else all of it. */
export function visibleRange(full: readonly [number, number], zoom: readonly [number, number] | null): [number, number] {
  if (!zoom) return [full[0], full[1]];
  const a = Math.max(full[0], zoom[0]);
  const b = Math.min(full[1], zoom[1]);
  return b > a ? [a, b] : [full[0], full[1]];
}

/**
 * The points of a series (sorted by x) inside [x0, x1], with the nearest point on each
 * side so the line runs to the plot's edges.
 */
export function sliceX(points: readonly XY[], x0: number, x1: number): XY[] {
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((points[mid] as XY).x < x0) lo = mid + 1;
    else hi = mid;
  }
  const start = Math.max(0, lo - 1);
  let end = lo;
  while (end < points.length && (points[end] as XY).x <= x1) end++;
  return points.slice(start, Math.min(points.length, end + 1));
}
