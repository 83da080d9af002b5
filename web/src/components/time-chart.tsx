/**
 * A uPlot chart: the thin island around the pure model of src/shared/chart.ts. The plot is
 * created once (again only when its series or the theme change), fed with `setData` on every
 * refresh, resized with its container and destroyed on unmount.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { tickIncrements, tickLabels, type ChartModel } from '../../../src/shared/chart.ts';
import { formatDateTime, formatMetric, unitLabel } from '../../../src/shared/format.ts';

export interface TimeChartProps {
  readonly model: ChartModel;
  readonly title: string;
  readonly testId: string;
  readonly theme: string;
  /** Called with the dragged range (unix seconds). */
  readonly onZoom: (fromSec: number, toSec: number) => void;
}

const chartHeight = 200;

/** Colours `--series-0` to `--series-9` of styles.css: a Compare chart's lines repeat them past ten. */
const paletteSize = 10;

/** 24-hour time ticks: [minimum tick step in s, tick format, format when the next-larger part changes, ...] (uPlot's table). */
const timeTicks: uPlot.Axis.TimeValuesConfig = [
  [3600 * 24 * 365, '{YYYY}', null, null, null, null, null, null, 1],
  [3600 * 24 * 28, '{MMM}', '\n{YYYY}', null, null, null, null, null, 1],
  [3600 * 24, '{D} {MMM}', '\n{YYYY}', null, null, null, null, null, 1],
  [3600, '{HH}:{mm}', '\n{D} {MMM}', null, '\n{D} {MMM}', null, null, null, 1],
  [60, '{HH}:{mm}', '\n{D} {MMM}', null, '\n{D} {MMM}', null, null, null, 1],
  [1, '{HH}:{mm}:{ss}', '\n{D} {MMM}', null, '\n{D} {MMM}', null, null, null, 1],
];

function cssVar(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value === '' ? fallback : value;
}

/** `#rrggbb` with an alpha, as rgba(). */
function withAlpha(hex: string, alpha: number): string {
  const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!match) return hex;
  const [r, g, b] = [match[1], match[2], match[3]].map((h) => parseInt(h ?? '0', 16));
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

function options(model: ChartModel, width: number, onZoom: { current: TimeChartProps['onZoom'] }): uPlot.Options {
  const axis = cssVar('--chart-axis', '#666666');
  const grid = cssVar('--chart-grid', '#dddddd');
  const color = (i: number): string => cssVar(`--series-${i % paletteSize}`, '#3b82f6');
  const fmt = (v: number | null | undefined): string => formatMetric(v ?? null, model.unit);
  // The average's legend entry carries the bucket's min and max too; their own entries are hidden.
  const avgValue = (u: uPlot, v: number | null, seriesIdx: number, idx: number | null): string => {
    if (idx === null) return fmt(v);
    const min = u.data[seriesIdx + 1]?.[idx];
    const max = u.data[seriesIdx + 2]?.[idx];
    return v === null ? fmt(null) : `${fmt(v)} (min ${fmt(min)}, max ${fmt(max)})`;
  };
  return {
    width,
    height: chartHeight,
    series: [
      { label: 'Time', value: (_u, v) => (v === null ? '' : formatDateTime(v)) },
      ...model.series.map(
        (s): uPlot.Series => ({
          label: s.label,
          stroke: s.role === 'avg' ? color(s.colorIndex) : withAlpha(color(s.colorIndex), 0.35),
          width: s.role === 'avg' ? 1.5 : 1,
          spanGaps: false,
          points: { show: false },
          value: s.role === 'avg' ? avgValue : (_u: uPlot, v: number | null) => fmt(v),
          class: `series-${s.role}`,
        }),
      ),
    ],
    bands: model.bands.map((b) => ({
      series: [b.upper, b.lower] as [number, number],
      fill: withAlpha(color(model.series[b.upper - 1]?.colorIndex ?? 0), 0.14),
    })),
    scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min), max > min ? max * 1.05 : max + 1] } },
    axes: [
      { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, values: timeTicks },
      {
        stroke: axis,
        grid: { stroke: grid, width: 1 },
        ticks: { stroke: grid },
        size: (_u, values) => (values ? Math.max(...values.map((v) => v.length)) * 7 + 16 : 40),
        values: (_u, splits) => tickLabels(splits, model.unit),
        incrs: (_u, _axisIdx, scaleMin, scaleMax) => tickIncrements(model.unit, Math.max(Math.abs(scaleMin), Math.abs(scaleMax))),
        label: unitLabel(model.unit),
        labelSize: 0,
      },
    ],
    cursor: { drag: { x: true, y: false, setScale: false }, sync: { key: 'vscope-entity' } },
    legend: { live: true },
    hooks: {
      setSelect: [
        (u) => {
          if (u.select.width < 2) return;
          const from = u.posToVal(u.select.left, 'x');
          const to = u.posToVal(u.select.left + u.select.width, 'x');
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          u.setScale('x', { min: from, max: to });
          onZoom.current(Math.floor(from), Math.ceil(to));
        },
      ],
    },
  };
}

export function TimeChart({ model, title, testId, theme, onZoom }: TimeChartProps) {
  const container = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const zoomHandler = useRef(onZoom);
  zoomHandler.current = onZoom;
  const latest = useRef(model);
  latest.current = model;

  // The plot's shape: a change of series, unit or theme needs a new plot, data alone does not.
  const shape = `${theme}|${model.unit}|${model.series.map((s) => `${s.label}:${s.role}`).join(',')}`;

  useEffect(() => {
    const el = container.current;
    if (!el) return undefined;
    const u = new uPlot(options(latest.current, Math.max(200, el.clientWidth), zoomHandler), latest.current.data, el);
    plot.current = u;
    const observer = new ResizeObserver(() => {
      const width = Math.max(200, el.clientWidth);
      if (Math.abs(width - u.width) > 1) u.setSize({ width, height: chartHeight });
    });
    observer.observe(el);
    return () => {
      observer.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [shape]);

  useEffect(() => {
    const u = plot.current;
    if (u && u.data !== model.data) u.setData(model.data);
  }, [model]);

  // Points with an average, over all metrics: a hook for tests and the "no data" note.
  const points = model.series.reduce((total, s, i) => (s.role === 'avg' ? total + (model.data[i + 1]?.filter((v) => v !== null).length ?? 0) : total), 0);
  const empty = points === 0;
  return (
    <figure class="chart" data-testid={testId} data-points={points}>
      <figcaption>{title}</figcaption>
      <div class="chart-plot" ref={container} role="img" aria-label={`${title} chart`} />
      {empty && <p class="chart-empty">No data in this period yet.</p>}
    </figure>
  );
}
