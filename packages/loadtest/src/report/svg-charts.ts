// Inline SVG line and bar charts with axes, ticks and legends, rendered to strings with every text escaped.

export function escapeHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;").replaceAll("'", "&#39;");
}

export interface LineSeries {
  name: string;
  color: string;
  points: { x: number; y: number }[];
  /** A polyline (the default), a dot per point, or both. */
  style?: "line" | "dots" | "line+dots";
}

/** A dashed reference line across the plot, e.g. a threshold (axis "y") or a marked rate or time (axis "x"). */
export interface Guide {
  axis: "x" | "y";
  value: number;
  label: string;
  color: string;
}

export interface Axis {
  label: string;
  format?: (value: number) => string;
  /** Explicit tick positions; otherwise "nice" ticks across the data range. */
  ticks?: number[];
}

export interface LineChartOptions {
  title: string;
  series: LineSeries[];
  xAxis: Axis;
  yAxis: Axis;
  /** Reference lines; the axes stretch to include them. */
  guides?: Guide[];
  width?: number;
  height?: number;
}

export interface Bar {
  label: string;
  value: number;
  color?: string;
}

export interface BarChartOptions {
  title: string;
  bars: Bar[];
  yAxis: Axis;
  xLabel: string;
  width?: number;
  height?: number;
}

const MARGIN = { top: 48, right: 16, bottom: 48, left: 64 };

/** Round numbers covering [min, max], about `count` of them. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (max <= min) max = min + 1;
  const rawStep = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(rawStep));
  const step = ([1, 2, 5, 10].find((m) => m * magnitude >= rawStep) ?? 10) * magnitude;
  const ticks: number[] = [];
  for (let tick = Math.floor(min / step) * step; tick <= max + step * 1e-9; tick += step) {
    ticks.push(Number(tick.toPrecision(12)));
  }
  if ((ticks.at(-1) ?? min) < max) ticks.push(Number(((ticks.at(-1) ?? min) + step).toPrecision(12)));
  return ticks;
}

export function formatNumber(value: number): string {
  if (value === 0) return "0";
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${Number((value / 1e6).toPrecision(3))}M`;
  if (abs >= 1e4) return `${Number((value / 1e3).toPrecision(3))}k`;
  return String(Number(value.toPrecision(3)));
}

function round(value: number): string {
  return (Math.round(value * 10) / 10).toString();
}

interface Frame {
  width: number;
  height: number;
  plotWidth: number;
  plotHeight: number;
}

function frameOf(width: number, height: number): Frame {
  return { width, height, plotWidth: width - MARGIN.left - MARGIN.right, plotHeight: height - MARGIN.top - MARGIN.bottom };
}

function openSvg(frame: Frame, title: string): string {
  return (
    `<svg class="chart" role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${frame.width} ${frame.height}" ` +
    `width="${frame.width}" height="${frame.height}"><title>${escapeHtml(title)}</title>` +
    `<text class="chart-title" x="${MARGIN.left}" y="18">${escapeHtml(title)}</text>`
  );
}

function yAxisMarkup(frame: Frame, ticks: number[], toY: (v: number) => number, axis: Axis): string {
  const format = axis.format ?? formatNumber;
  const right = MARGIN.left + frame.plotWidth;
  const lines = ticks.map((tick) => {
    const y = round(toY(tick));
    return (
      `<line class="grid" x1="${MARGIN.left}" x2="${right}" y1="${y}" y2="${y}"/>` +
      `<text class="tick" x="${MARGIN.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeHtml(format(tick))}</text>`
    );
  });
  const midY = MARGIN.top + frame.plotHeight / 2;
  return `${lines.join("")}<text class="axis-label" x="14" y="${round(midY)}" text-anchor="middle" transform="rotate(-90 14 ${round(midY)})">${escapeHtml(axis.label)}</text>`;
}

function axesPath(frame: Frame): string {
  const bottom = MARGIN.top + frame.plotHeight;
  return `<path class="axis" d="M${MARGIN.left} ${MARGIN.top}V${bottom}H${MARGIN.left + frame.plotWidth}"/>`;
}

export function renderLineChart({ title, series, xAxis, yAxis, guides = [], width = 640, height = 280 }: LineChartOptions): string {
  const frame = frameOf(width, height);
  const all = series.flatMap((s) => s.points);
  const xs = [...all.map((p) => p.x), ...guides.filter((g) => g.axis === "x").map((g) => g.value)];
  const ys = [...all.map((p) => p.y), ...guides.filter((g) => g.axis === "y").map((g) => g.value)];
  const xTicks = xAxis.ticks ?? niceTicks(Math.min(0, ...xs), Math.max(1, ...xs), 6);
  const yTicks = yAxis.ticks ?? niceTicks(0, Math.max(0, ...ys), 5);
  const [xMin, xMax] = [xTicks[0] ?? 0, xTicks.at(-1) ?? 1];
  const [yMin, yMax] = [yTicks[0] ?? 0, yTicks.at(-1) ?? 1];
  const toX = (x: number) => MARGIN.left + ((x - xMin) / (xMax - xMin || 1)) * frame.plotWidth;
  const toY = (y: number) => MARGIN.top + frame.plotHeight - ((y - yMin) / (yMax - yMin || 1)) * frame.plotHeight;
  const bottom = MARGIN.top + frame.plotHeight;
  const xFormat = xAxis.format ?? formatNumber;

  const xTickMarkup = xTicks
    .map((tick) => {
      const x = round(toX(tick));
      return `<line class="tick-mark" x1="${x}" x2="${x}" y1="${bottom}" y2="${bottom + 4}"/><text class="tick" x="${x}" y="${bottom + 16}" text-anchor="middle">${escapeHtml(xFormat(tick))}</text>`;
    })
    .join("");
  const lines = series
    .filter((s) => s.points.length > 0)
    .map((s) => {
      const style = s.style ?? "line";
      const points = s.points.map((p) => `${round(toX(p.x))},${round(toY(p.y))}`).join(" ");
      // A lone point would draw nothing as a polyline; mark it with a dot as well.
      const dot = style === "line" && s.points.length === 1 ? `<circle cx="${points.split(",")[0]}" cy="${points.split(",")[1]}" r="3" fill="${escapeHtml(s.color)}"/>` : "";
      const line =
        style === "dots"
          ? ""
          : `<polyline class="series" fill="none" stroke="${escapeHtml(s.color)}" stroke-width="2" points="${points}"><title>${escapeHtml(s.name)}</title></polyline>`;
      const dots =
        style === "line"
          ? ""
          : s.points
              .map(
                (p) =>
                  `<circle class="dot" cx="${round(toX(p.x))}" cy="${round(toY(p.y))}" r="3.5" fill="${escapeHtml(s.color)}">` +
                  `<title>${escapeHtml(`${s.name}: ${xFormat(p.x)}, ${(yAxis.format ?? formatNumber)(p.y)}`)}</title></circle>`,
              )
              .join("");
      return line + dot + dots;
    })
    .join("");
  // Guide lines go under the series, their labels over them (with a halo from the stylesheet), so both stay readable.
  const guideParts = guides.map((guide, index) => {
    const color = escapeHtml(guide.color);
    const label = escapeHtml(guide.label);
    if (guide.axis === "y") {
      const y = round(toY(guide.value));
      return {
        line: `<line class="guide" x1="${MARGIN.left}" x2="${MARGIN.left + frame.plotWidth}" y1="${y}" y2="${y}" stroke="${color}" stroke-width="1.5" stroke-dasharray="6 4"/>`,
        label: `<text class="guide-label" x="${MARGIN.left + frame.plotWidth - 4}" y="${round(toY(guide.value) - 4)}" text-anchor="end" fill="${color}">${label}</text>`,
      };
    }
    const x = round(toX(guide.value));
    return {
      line: `<line class="guide" x1="${x}" x2="${x}" y1="${MARGIN.top}" y2="${bottom}" stroke="${color}" stroke-width="1.5" stroke-dasharray="6 4"/>`,
      label: `<text class="guide-label" x="${round(toX(guide.value) + 4)}" y="${MARGIN.top + 12 + 14 * index}" fill="${color}">${label}</text>`,
    };
  });
  // Under the title, so a long title and many series never overlap; a slot is 90 px, wider for a long name (11 px text).
  let legendX = MARGIN.left;
  const legend = series
    .map((s) => {
      const x = legendX;
      legendX += Math.max(90, 14 + Math.ceil(s.name.length * 6.5) + 16);
      return `<rect x="${x}" y="26" width="10" height="10" fill="${escapeHtml(s.color)}"/><text class="legend" x="${x + 14}" y="35">${escapeHtml(s.name)}</text>`;
    })
    .join("");
  const empty =
    all.length === 0
      ? `<text class="empty" x="${round(MARGIN.left + frame.plotWidth / 2)}" y="${round(MARGIN.top + frame.plotHeight / 2)}" text-anchor="middle">no data</text>`
      : "";

  return (
    openSvg(frame, title) +
    legend +
    yAxisMarkup(frame, yTicks, toY, yAxis) +
    xTickMarkup +
    axesPath(frame) +
    guideParts.map((part) => part.line).join("") +
    lines +
    guideParts.map((part) => part.label).join("") +
    empty +
    `<text class="axis-label" x="${round(MARGIN.left + frame.plotWidth / 2)}" y="${height - 8}" text-anchor="middle">${escapeHtml(xAxis.label)}</text>` +
    `</svg>`
  );
}

export function renderBarChart({ title, bars, yAxis, xLabel, width = 640, height = 280 }: BarChartOptions): string {
  const frame = frameOf(width, height);
  const yTicks = yAxis.ticks ?? niceTicks(0, Math.max(0, ...bars.map((b) => b.value)), 5);
  const yMax = yTicks.at(-1) ?? 1;
  const toY = (y: number) => MARGIN.top + frame.plotHeight - (y / (yMax || 1)) * frame.plotHeight;
  const bottom = MARGIN.top + frame.plotHeight;
  const slot = frame.plotWidth / Math.max(1, bars.length);
  const barWidth = Math.max(1, slot * 0.7);
  const format = yAxis.format ?? formatNumber;

  const barMarkup = bars
    .map((bar, index) => {
      const x = MARGIN.left + index * slot + (slot - barWidth) / 2;
      const y = toY(bar.value);
      const center = round(x + barWidth / 2);
      return (
        `<rect class="bar" x="${round(x)}" y="${round(y)}" width="${round(barWidth)}" height="${round(bottom - y)}" fill="${escapeHtml(bar.color ?? "#4e79a7")}">` +
        `<title>${escapeHtml(`${bar.label}: ${format(bar.value)}`)}</title></rect>` +
        `<text class="tick" x="${center}" y="${bottom + 16}" text-anchor="middle">${escapeHtml(bar.label)}</text>` +
        `<text class="bar-value" x="${center}" y="${round(y - 4)}" text-anchor="middle">${escapeHtml(format(bar.value))}</text>`
      );
    })
    .join("");
  const empty =
    bars.length === 0
      ? `<text class="empty" x="${round(MARGIN.left + frame.plotWidth / 2)}" y="${round(MARGIN.top + frame.plotHeight / 2)}" text-anchor="middle">no data</text>`
      : "";

  return (
    openSvg(frame, title) +
    yAxisMarkup(frame, yTicks, toY, yAxis) +
    axesPath(frame) +
    barMarkup +
    empty +
    `<text class="axis-label" x="${round(MARGIN.left + frame.plotWidth / 2)}" y="${height - 8}" text-anchor="middle">${escapeHtml(xLabel)}</text>` +
    `</svg>`
  );
}
