// A line chart on a canvas: many series, a legend whose entries toggle series, a log or
// linear y axis, EMA smoothing (raw line faint, smoothed line bold), and hover values on
// a second canvas so hovering never redraws the lines. The math is in chart-math.ts.
import {
  downsample,
  dragRange,
  ema,
  formatTick,
  linearScale,
  logScale,
  nearestIndex,
  sliceX,
  visibleRange,
  xExtent,
  yExtent,
  type Scale,
  type XY,
} from "./chart-math";

export interface ChartSeries {
  id: string;
  label: string;
  points: XY[];
}

/** A chart as shown, for saving as PNG or SVG (`save_chart`): the visible series with their colours and finite points, the options and the zoom. */
export interface ShownChart {
  title: string;
  xLabel: string;
  yLabel: string;
  logY: boolean;
  smoothing: number;
  /** The x range zoomed into; null: all of it. */
  xRange: [number, number] | null;
  series: { label: string; color: string; points: [number, number][] }[];
}

export interface ChartOptions {
  logY: boolean;
  /** EMA weight, 0 (raw) to 0.99. */
  smoothing: number;
  xLabel: string;
}

const PALETTE = [
  "#5b3fd1", "#e0652b", "#1f8a70", "#c2347a", "#2f6fd6",
  "#b28a00", "#7a4bd6", "#d23f3f", "#12838f", "#6b7a1a",
];

const MARGIN = { left: 58, right: 16, top: 12, bottom: 34 };

export class LineChart {
  readonly element: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly overlay: HTMLCanvasElement;
  private readonly legend: HTMLElement;
  private readonly tooltip: HTMLElement;
  private series: ChartSeries[] = [];
  private readonly hidden = new Set<string>();
  private readonly colors = new Map<string, string>();
  private options: ChartOptions = { logY: false, smoothing: 0, xLabel: "step" };
  private x: Scale = linearScale(0, 1, 0, 1);
  private y: Scale = linearScale(0, 1, 0, 1);
  private drawn: { series: ChartSeries; color: string; points: XY[] }[] = [];
  /** Smoothed copies by series, valid while the weight and the point count are unchanged. */
  private readonly smoothed = new Map<string, { weight: number; count: number; points: XY[] }>();
  private frame = 0;
  /** The x range zoomed into by dragging; null: all of it. */
  private zoom: [number, number] | null = null;
  /** The whole x extent of the visible series at the last draw. */
  private fullX: [number, number] = [0, 1];
  /** Where a drag started (pixels), while one is under way. */
  private dragFrom: number | null = null;
  private readonly reset: HTMLButtonElement;
  private readonly captionText: HTMLElement;

  constructor(title: string, className = "") {
    this.element = document.createElement("figure");
    this.element.className = `chart ${className}`.trim();
    const caption = document.createElement("figcaption");
    caption.className = "chart-title";
    this.captionText = document.createElement("span");
    this.captionText.textContent = title;
    caption.append(this.captionText);
    this.legend = document.createElement("div");
    this.legend.className = "chart-legend";
    const plot = document.createElement("div");
    plot.className = "chart-plot";
    this.canvas = document.createElement("canvas");
    this.overlay = document.createElement("canvas");
    this.overlay.className = "chart-overlay";
    this.tooltip = document.createElement("div");
    this.tooltip.className = "chart-tooltip";
    this.tooltip.hidden = true;
    plot.append(this.canvas, this.overlay, this.tooltip);
    this.element.append(caption, this.legend, plot);
    this.overlay.addEventListener("mousemove", (e) => {
      this.hover(e.offsetX, e.offsetY);
      if (this.dragFrom !== null) this.drawSelection(this.dragFrom, e.offsetX);
    });
    this.overlay.addEventListener("mouseleave", () => {
      this.dragFrom = null;
      this.clearHover();
    });
    // Drag across the plot to zoom into that x range; double-click or Reset to see it all.
    this.overlay.addEventListener("mousedown", (e) => {
      if (e.button === 0) this.dragFrom = e.offsetX;
    });
    this.overlay.addEventListener("mouseup", (e) => {
      const from = this.dragFrom;
      this.dragFrom = null;
      if (from === null) return;
      const range = dragRange(this.x, from, e.offsetX, this.fullX);
      if (range) this.setZoom(range);
    });
    this.overlay.addEventListener("dblclick", () => this.setZoom(null));
    this.reset = document.createElement("button");
    this.reset.type = "button";
    this.reset.className = "button secondary chart-reset";
    this.reset.textContent = "Reset zoom";
    this.reset.hidden = true;
    this.reset.addEventListener("click", () => this.setZoom(null));
    caption.append(" ", this.reset);
    new ResizeObserver(() => this.schedule()).observe(plot);
  }

  setTitle(title: string): void {
    this.captionText.textContent = title;
  }

  /**
   * The chart as shown, titled `title` (its own title if empty) with y axis `yLabel`: the
   * series the legend shows, in their colours, their finite points, the smoothing, the y
   * axis and the x range zoomed into.
   */
  shown(title = "", yLabel = ""): ShownChart {
    const series = this.series
      .filter((s) => !this.hidden.has(s.id))
      .map((s) => ({
        label: s.label,
        color: this.color(s.id),
        points: s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)).map((p): [number, number] => [p.x, p.y]),
      }))
      .filter((s) => s.points.length > 0);
    return {
      title: title || (this.captionText.textContent ?? ""),
      xLabel: this.options.xLabel,
      yLabel,
      logY: this.options.logY,
      smoothing: this.options.smoothing,
      xRange: this.zoom ? [this.x.domain[0], this.x.domain[1]] : null,
      series,
    };
  }

  setOptions(options: Partial<ChartOptions>): void {
    this.options = { ...this.options, ...options };
    this.schedule();
  }

  /** Replace every series (their visibility and colours are kept by id). */
  setSeries(series: ChartSeries[]): void {
    this.series = series;
    this.smoothed.clear();
    this.renderLegend();
    this.schedule();
  }

  /** Add points at the end of a series (created if new), for live updates. */
  append(id: string, label: string, points: XY[]): void {
    let series = this.series.find((s) => s.id === id);
    if (!series) {
      series = { id, label, points: [] };
      this.series.push(series);
      this.renderLegend();
    }
    const last = series.points[series.points.length - 1];
    for (const p of points) {
      if (!last || p.x > last.x) series.points.push(p);
    }
    this.schedule();
  }

  /** Zoom into x range `range` (null: show everything). */
  setZoom(range: [number, number] | null): void {
    this.zoom = range;
    this.reset.hidden = range === null;
    if (range) this.element.dataset.zoom = `${range[0]},${range[1]}`;
    else delete this.element.dataset.zoom;
    this.clearHover();
    this.schedule();
  }

  /** The x range drawn at the last draw. */
  xDomain(): readonly [number, number] {
    return this.x.domain;
  }

  pointCount(): number {
    return this.series.reduce((n, s) => n + s.points.length, 0);
  }

  private color(id: string): string {
    let color = this.colors.get(id);
    if (!color) {
      color = PALETTE[this.colors.size % PALETTE.length] as string;
      this.colors.set(id, color);
    }
    return color;
  }

  private renderLegend(): void {
    this.legend.replaceChildren(
      ...this.series.map((s) => {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "legend-item";
        button.dataset.seriesId = s.id;
        button.setAttribute("aria-pressed", String(!this.hidden.has(s.id)));
        const swatch = document.createElement("span");
        swatch.className = "legend-swatch";
        swatch.style.background = this.color(s.id);
        button.append(swatch, document.createTextNode(s.label));
        button.addEventListener("click", () => {
          if (this.hidden.has(s.id)) this.hidden.delete(s.id);
          else this.hidden.add(s.id);
          button.setAttribute("aria-pressed", String(!this.hidden.has(s.id)));
          this.schedule();
        });
        return button;
      }),
    );
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  /** Draw now; returns the milliseconds it took. */
  draw(): number {
    const started = performance.now();
    const rect = this.canvas.parentElement?.getBoundingClientRect();
    const width = Math.max(200, Math.floor(rect?.width ?? 600));
    const height = Math.max(120, Math.floor(rect?.height ?? 260));
    const ratio = window.devicePixelRatio || 1;
    for (const c of [this.canvas, this.overlay]) {
      if (c.width !== width * ratio || c.height !== height * ratio) {
        c.width = width * ratio;
        c.height = height * ratio;
        c.style.width = `${width}px`;
        c.style.height = `${height}px`;
      }
    }
    const ctx = this.canvas.getContext("2d");
    if (!ctx) return 0;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);

    const visible = this.series.filter((s) => !this.hidden.has(s.id) && s.points.length > 0);
    const { logY, smoothing } = this.options;
    const smoothed = visible.map((s) => this.smooth(s, smoothing));
    this.fullX = xExtent(visible.map((s) => s.points));
    const [x0, x1] = visibleRange(this.fullX, this.zoom);
    const [y0, y1] = yExtent(
      visible.map((s) => (this.zoom ? sliceX(s.points, x0, x1) : s.points)),
      logY,
    );
    const left = MARGIN.left;
    const right = width - MARGIN.right;
    const top = MARGIN.top;
    const bottom = height - MARGIN.bottom;
    this.x = linearScale(x0, x1, left, right);
    this.y = logY ? logScale(y0, y1, bottom, top) : linearScale(y0, y1, bottom, top);

    this.drawAxes(ctx, left, right, top, bottom);
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, right - left, bottom - top);
    ctx.clip();
    this.drawn = [];
    const columns = Math.max(1, Math.floor(right - left));
    visible.forEach((s, i) => {
      const color = this.color(s.id);
      const raw = downsample(s.points, x0, x1, columns);
      if (smoothing > 0) {
        this.line(ctx, raw, color, 1, 0.25);
        const smooth = downsample(smoothed[i] as XY[], x0, x1, columns);
        this.line(ctx, smooth, color, 2, 1);
        this.drawn.push({ series: s, color, points: smoothed[i] as XY[] });
      } else {
        this.line(ctx, raw, color, 1.6, 1);
        this.drawn.push({ series: s, color, points: s.points });
      }
    });
    ctx.restore();
    const ms = performance.now() - started;
    this.element.dataset.points = String(this.pointCount());
    this.element.dataset.series = String(this.series.length);
    // Read by the desktop benchmark (BENCHMARKS.md, "Desktop").
    this.element.dataset.drawMs = ms.toFixed(2);
    return ms;
  }

  private smooth(series: ChartSeries, weight: number): XY[] {
    const cached = this.smoothed.get(series.id);
    if (cached && cached.weight === weight && cached.count === series.points.length) return cached.points;
    const ys = ema(series.points.map((p) => p.y), weight);
    const points = series.points.map((p, i) => ({ x: p.x, y: ys[i] as number }));
    this.smoothed.set(series.id, { weight, count: series.points.length, points });
    return points;
  }

  private line(ctx: CanvasRenderingContext2D, points: XY[], color: string, width: number, alpha: number): void {
    ctx.strokeStyle = color;
    ctx.globalAlpha = alpha;
    ctx.lineWidth = width;
    // Round joins cost a third of the drawing time of long series; at 1-2 px they look the same.
    ctx.lineJoin = "bevel";
    ctx.beginPath();
    let pen = false;
    for (const p of points) {
      if (!Number.isFinite(p.y) || (this.y.log && p.y <= 0)) {
        pen = false;
        continue;
      }
      const px = this.x.map(p.x);
      const py = this.y.map(p.y);
      if (pen) ctx.lineTo(px, py);
      else ctx.moveTo(px, py);
      pen = true;
    }
    if (points.length === 1 && points[0]) {
      ctx.arc(this.x.map(points[0].x), this.y.map(points[0].y), 2, 0, 2 * Math.PI);
    }
    ctx.stroke();
    ctx.globalAlpha = 1;
  }

  private drawAxes(ctx: CanvasRenderingContext2D, left: number, right: number, top: number, bottom: number): void {
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillStyle = "#5d5a70";
    ctx.strokeStyle = "#e3e1ec";
    ctx.lineWidth = 1;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const t of this.y.ticks(5)) {
      const py = Math.round(this.y.map(t)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(left, py);
      ctx.lineTo(right, py);
      ctx.stroke();
      ctx.fillText(formatTick(t), left - 6, py);
    }
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (const t of this.x.ticks(Math.max(2, Math.floor((right - left) / 90)))) {
      const px = Math.round(this.x.map(t)) + 0.5;
      ctx.fillText(formatTick(t), px, bottom + 6);
    }
    ctx.strokeStyle = "#bdb9cc";
    ctx.beginPath();
    ctx.moveTo(left + 0.5, top);
    ctx.lineTo(left + 0.5, bottom + 0.5);
    ctx.lineTo(right, bottom + 0.5);
    ctx.stroke();
    ctx.textAlign = "right";
    ctx.fillText(this.options.xLabel, right, bottom + 20);
  }

  /** The band being dragged over, from pixel `a` to `b`. */
  private drawSelection(a: number, b: number): void {
    const ctx = this.overlay.getContext("2d");
    if (!ctx) return;
    const ratio = window.devicePixelRatio || 1;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.fillStyle = "rgba(91,61,201,0.12)";
    ctx.fillRect(Math.min(a, b), MARGIN.top, Math.abs(b - a), this.overlay.height / ratio - MARGIN.top - MARGIN.bottom);
  }

  private clearHover(): void {
    const ctx = this.overlay.getContext("2d");
    ctx?.clearRect(0, 0, this.overlay.width, this.overlay.height);
    this.tooltip.hidden = true;
  }

  private hover(px: number, py: number): void {
    const ctx = this.overlay.getContext("2d");
    if (!ctx || this.drawn.length === 0) return;
    const ratio = window.devicePixelRatio || 1;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, this.overlay.width, this.overlay.height);
    const x = this.x.invert(px);
    const rows: string[] = [];
    let shownX = x;
    for (const { series, color, points } of this.drawn) {
      const i = nearestIndex(points, x);
      const p = points[i];
      if (!p) continue;
      shownX = p.x;
      ctx.fillStyle = color;
      ctx.beginPath();
      ctx.arc(this.x.map(p.x), this.y.map(p.y), 3, 0, 2 * Math.PI);
      ctx.fill();
      rows.push(`${series.label}: ${formatTick(p.y)}`);
    }
    ctx.strokeStyle = "rgba(29,27,41,0.25)";
    ctx.beginPath();
    ctx.moveTo(Math.round(px) + 0.5, MARGIN.top);
    ctx.lineTo(Math.round(px) + 0.5, this.overlay.height / ratio - MARGIN.bottom);
    ctx.stroke();
    this.tooltip.textContent = [`${this.options.xLabel} ${formatTick(shownX)}`, ...rows].join("\n");
    this.tooltip.hidden = false;
    this.tooltip.style.left = `${Math.min(px + 12, this.overlay.width / ratio - 180)}px`;
    this.tooltip.style.top = `${Math.max(0, py - 10)}px`;
  }
}
