// Charts drawn as plain SVG: a bar or line chart of a series, and a forecast's line with its interval as a shaded
// band (after a stretch of actual history). Each is one image to a screen reader (role="img" and a summary in
// its aria-label); the page puts the numbers in a table beside it.
import type { ComponentChildren } from "preact";

export type Point = { label: string; value: number };
export type BandPoint = { label: string; mean: number; lower: number; upper: number };

const W = 640;
const H = 260;
const PAD = { left: 64, right: 12, top: 12, bottom: 34 };
const innerW = W - PAD.left - PAD.right;
const innerH = H - PAD.top - PAD.bottom;

/** Round ticks from 0 (or below, for negative values) to at least ``max``. */
function ticks(min: number, max: number, n = 4): number[] {
  const lo = Math.min(0, min);
  const hi = max > lo ? max : lo + 4;
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const out: number[] = [];
  for (let v = Math.floor(lo / step) * step; v < hi + step * 0.999; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function Frame({
  label,
  yTicks,
  y,
  format,
  xLabels,
  children,
}: {
  label: string;
  yTicks: number[];
  y: (v: number) => number;
  format: (v: number) => string;
  xLabels: { x: number; text: string }[];
  children: ComponentChildren;
}) {
  return (
    <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label} focusable="false">
      {yTicks.map((t) => (
        <g key={t}>
          <line class="grid-line" x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} />
          <text x={PAD.left - 6} y={y(t) + 4} text-anchor="end">
            {format(t)}
          </text>
        </g>
      ))}
      {children}
      <line class="axis" x1={PAD.left} x2={W - PAD.right} y1={y(Math.max(0, yTicks[0] ?? 0))} y2={y(Math.max(0, yTicks[0] ?? 0))} />
      {xLabels.map((l, i) => (
        <text key={i} x={l.x} y={H - PAD.bottom + 18} text-anchor="middle">
          {l.text}
        </text>
      ))}
    </svg>
  );
}

/** At most ``n`` evenly spread indexes of ``length`` items, the first and the last among them. */
function spread(length: number, n: number): number[] {
  if (length <= n) return [...Array(length).keys()];
  const out = new Set<number>();
  for (let i = 0; i < n; i++) out.add(Math.round((i * (length - 1)) / (n - 1)));
  return [...out];
}

/** A series as bars (or a line): ``label`` says what it shows, for a screen reader. */
export function SeriesChart({
  points,
  label,
  format,
  kind = "bar",
  short = (s) => s,
}: {
  points: Point[];
  label: string;
  format: (v: number) => string;
  kind?: "bar" | "line";
  short?: (label: string) => string;
}) {
  const values = points.map((p) => p.value);
  const yTicks = ticks(Math.min(0, ...values), Math.max(0, ...values));
  const lo = yTicks[0] ?? 0;
  const hi = yTicks[yTicks.length - 1] ?? 1;
  const y = (v: number) => PAD.top + innerH - ((v - lo) / (hi - lo || 1)) * innerH;
  const slot = innerW / Math.max(1, points.length);
  const x = (i: number) => PAD.left + slot * i + slot / 2;
  const xLabels = spread(points.length, 6).map((i) => ({ x: x(i), text: short(points[i]!.label) }));
  const bw = Math.max(1, Math.min(40, slot * 0.7));
  return (
    <div class="chart">
      <Frame label={label} yTicks={yTicks} y={y} format={format} xLabels={xLabels}>
        {kind === "bar"
          ? points.map((p, i) => (
              <rect key={p.label} class="bar" x={x(i) - bw / 2} width={bw} y={Math.min(y(p.value), y(0))} height={Math.abs(y(0) - y(p.value))} />
            ))
          : [
              <path key="line" class="line" d={points.map((p, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(p.value).toFixed(1)}`).join("")} />,
              ...points.map((p, i) => <circle key={p.label} class="dot" cx={x(i)} cy={y(p.value)} r={points.length > 40 ? 0 : 3} />),
            ]}
      </Frame>
    </div>
  );
}

/** Actual history (a solid line), then the forecast's mean (a dashed line) inside its interval (a shaded band). */
export function ForecastChart({
  history,
  forecast,
  label,
  format,
  short = (s) => s,
}: {
  history: Point[];
  forecast: BandPoint[];
  label: string;
  format: (v: number) => string;
  short?: (label: string) => string;
}) {
  const all = [...history.map((p) => p.value), ...forecast.flatMap((p) => [p.lower, p.upper, p.mean])];
  const yTicks = ticks(Math.min(0, ...all), Math.max(0, ...all));
  const lo = yTicks[0] ?? 0;
  const hi = yTicks[yTicks.length - 1] ?? 1;
  const y = (v: number) => PAD.top + innerH - ((v - lo) / (hi - lo || 1)) * innerH;
  const n = history.length + forecast.length;
  const step = innerW / Math.max(1, n - 1);
  const x = (i: number) => PAD.left + step * i;
  const fx = (i: number) => x(history.length + i);
  const labels = [...history.map((p) => p.label), ...forecast.map((p) => p.label)];
  const xLabels = spread(n, 6).map((i) => ({ x: x(i), text: short(labels[i]!) }));
  const band =
    forecast.length > 0
      ? `M${forecast.map((p, i) => `${fx(i).toFixed(1)},${y(p.upper).toFixed(1)}`).join("L")}` +
        `L${[...forecast.keys()]
          .reverse()
          .map((i) => `${fx(i).toFixed(1)},${y(forecast[i]!.lower).toFixed(1)}`)
          .join("L")}Z`
      : "";
  const last = history[history.length - 1];
  const mean = [
    ...(last ? [`${x(history.length - 1).toFixed(1)},${y(last.value).toFixed(1)}`] : []),
    ...forecast.map((p, i) => `${fx(i).toFixed(1)},${y(p.mean).toFixed(1)}`),
  ];
  return (
    <div class="chart">
      <Frame label={label} yTicks={yTicks} y={y} format={format} xLabels={xLabels}>
        {band ? <path class="band" d={band} data-part="interval" /> : null}
        {history.length ? (
          <path class="line" d={history.map((p, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(p.value).toFixed(1)}`).join("")} />
        ) : null}
        {mean.length > 1 ? <path class="line alt" d={`M${mean.join("L")}`} data-part="mean" /> : null}
        {history.length ? (
          <line class="axis" x1={x(history.length - 1)} x2={x(history.length - 1)} y1={PAD.top} y2={PAD.top + innerH} stroke-dasharray="2 3" />
        ) : null}
      </Frame>
      <ul class="legend" aria-hidden="true">
        {history.length ? (
          <li>
            <span class="swatch line" /> actual
          </li>
        ) : null}
        <li>
          <span class="swatch alt" /> forecast
        </li>
        <li>
          <span class="swatch band" /> interval
        </li>
      </ul>
    </div>
  );
}
