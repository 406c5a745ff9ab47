import { describe, expect, it } from "vitest";
import {
  atStep,
  dragRange,
  sliceX,
  visibleRange,
  downsample,
  ema,
  formatTick,
  linearScale,
  logScale,
  logTicks,
  nearestIndex,
  niceTicks,
  xExtent,
  yExtent,
  type XY,
} from "./chart-math";

const line = (n: number, f: (i: number) => number): XY[] => Array.from({ length: n }, (_, i) => ({ x: i, y: f(i) }));

describe("ema", () => {
  it("is the identity at weight 0 and debiased from the first value", () => {
    expect(ema([1, 2, 3], 0)).toEqual([1, 2, 3]);
    const s = ema([4, 4, 4], 0.9);
    for (const v of s) expect(v).toBeCloseTo(4, 12);
  });
  it("matches the hand-computed average", () => {
    // w = 0.5: last = 0.5, 1.25; debias = 0.5, 0.75 -> 1, 1.6667
    const s = ema([1, 2], 0.5);
    expect(s[0]).toBeCloseTo(1, 12);
    expect(s[1]).toBeCloseTo(1.25 / 0.75, 12);
  });
  it("passes NaN through without poisoning later values", () => {
    const s = ema([1, Number.NaN, 1], 0.6);
    expect(Number.isNaN(s[1])).toBe(true);
    expect(s[2]).toBeCloseTo(1, 12);
  });
});

describe("downsample", () => {
  it("leaves short series alone", () => {
    const pts = line(100, (i) => i);
    expect(downsample(pts, 0, 99, 100)).toEqual(pts);
  });
  it("keeps at most four points per column, and the extremes", () => {
    const pts = line(100_000, (i) => (i === 54_321 ? 1000 : i === 70_000 ? -1000 : Math.sin(i)));
    const out = downsample(pts, 0, 99_999, 500);
    expect(out.length).toBeLessThanOrEqual(2000);
    expect(out.some((p) => p.y === 1000)).toBe(true);
    expect(out.some((p) => p.y === -1000)).toBe(true);
    expect(out[0]).toEqual(pts[0]);
    expect(out[out.length - 1]).toEqual(pts[pts.length - 1]);
    for (let i = 1; i < out.length; i++) expect((out[i] as XY).x).toBeGreaterThan((out[i - 1] as XY).x);
  });
});

describe("scales and ticks", () => {
  it("maps and inverts linearly", () => {
    const s = linearScale(0, 10, 100, 200);
    expect(s.map(5)).toBe(150);
    expect(s.invert(175)).toBe(7.5);
  });
  it("maps and inverts on a log axis", () => {
    const s = logScale(1, 100, 0, 200);
    expect(s.map(10)).toBeCloseTo(100, 9);
    expect(s.invert(200)).toBeCloseTo(100, 9);
  });
  it("picks round ticks", () => {
    expect(niceTicks(0, 10, 5)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(0.31, 0.72, 4)).toEqual([0.4, 0.5, 0.6, 0.7]);
    expect(niceTicks(-1, 1, 4)).toEqual([-1, -0.5, 0, 0.5, 1]);
    expect(niceTicks(3, 3, 5)).toEqual([3]);
  });
  it("picks powers of ten on a log axis, with 2 and 5 when the range is short", () => {
    expect(logTicks(0.001, 10)).toEqual([0.001, 0.01, 0.1, 1, 10]);
    expect(logTicks(0.3, 4)).toEqual([0.5, 1, 2]);
    expect(logTicks(0, 4)).toEqual([]);
  });
  it("finds extents that ignore NaN and, on a log axis, non-positive values", () => {
    const a = [{ x: 0, y: -1 }, { x: 1, y: Number.NaN }, { x: 2, y: 3 }];
    expect(yExtent([a], false)).toEqual([-1.2, 3.2]);
    expect(yExtent([a], true)).toEqual([1.5, 6]);
    expect(yExtent([], false)).toEqual([0, 1]);
    expect(xExtent([a, [{ x: 5, y: 0 }]])).toEqual([0, 5]);
  });
  it("formats ticks briefly", () => {
    expect(formatTick(0)).toBe("0");
    expect(formatTick(12_000)).toBe("12k");
    expect(formatTick(2_500_000)).toBe("2.5M");
    expect(formatTick(0.25)).toBe("0.25");
    expect(formatTick(0.00001)).toBe("1e-5");
  });
});

describe("lookups", () => {
  it("finds the nearest point by x", () => {
    const pts = line(10, (i) => i).map((p) => ({ x: p.x * 10, y: p.y }));
    expect(nearestIndex(pts, -5)).toBe(0);
    expect(nearestIndex(pts, 44)).toBe(4);
    expect(nearestIndex(pts, 46)).toBe(5);
    expect(nearestIndex(pts, 1000)).toBe(9);
    expect(nearestIndex([], 3)).toBe(-1);
  });
  it("interpolates examples and seconds on the step axis", () => {
    const axis = [
      { step: 10, examples: 80, wall_s: 5 },
      { step: 20, examples: 160, wall_s: 15 },
    ];
    expect(atStep(axis, 15, "examples")).toBe(120);
    expect(atStep(axis, 15, "wall_s")).toBe(10);
    expect(atStep(axis, 5, "examples")).toBe(40);
    expect(atStep(axis, 30, "examples")).toBe(240);
    expect(Number.isNaN(atStep([], 3, "examples"))).toBe(true);
  });
});

describe("zoom on x", () => {
  const x = linearScale(0, 1000, 50, 1050);
  it("turns a drag into a range in either direction, within the data", () => {
    expect(dragRange(x, 150, 350, [0, 1000])).toEqual([100, 300]);
    expect(dragRange(x, 350, 150, [0, 1000])).toEqual([100, 300]);
    expect(dragRange(x, 10, 250, [0, 1000])).toEqual([0, 200]);
    expect(dragRange(x, 900, 2000, [0, 1000])).toEqual([850, 1000]);
  });

  it("ignores a click", () => {
    expect(dragRange(x, 150, 153, [0, 1000])).toBeNull();
    expect(dragRange(x, 1100, 1200, [0, 1000])).toBeNull();
  });

  it("draws the zoom while it overlaps the data, else everything", () => {
    expect(visibleRange([0, 1000], null)).toEqual([0, 1000]);
    expect(visibleRange([0, 1000], [100, 300])).toEqual([100, 300]);
    expect(visibleRange([0, 1000], [900, 1400])).toEqual([900, 1000]);
    expect(visibleRange([0, 500], [600, 700])).toEqual([0, 500]);
  });

  it("keeps the points in range and one neighbour on each side", () => {
    const pts = [0, 10, 20, 30, 40, 50].map((v) => ({ x: v, y: v }));
    expect(sliceX(pts, 15, 35).map((p) => p.x)).toEqual([10, 20, 30, 40]);
    expect(sliceX(pts, 20, 30).map((p) => p.x)).toEqual([10, 20, 30, 40]);
    expect(sliceX(pts, -5, 5).map((p) => p.x)).toEqual([0, 10]);
    expect(sliceX(pts, 45, 99).map((p) => p.x)).toEqual([40, 50]);
    expect(sliceX([], 0, 1)).toEqual([]);
  });
});
