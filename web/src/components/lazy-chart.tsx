/**
 * TimeChart loaded on first use: uPlot is the largest dependency and only the graphs need it, so
 * it stays out of the bundle that the tables wait for. A placeholder of the same height (without
 * the chart's test id) shows while it loads.
 */
import { useEffect, useState } from 'preact/hooks';
import type * as TimeChartModule from './time-chart.tsx';
import type { TimeChartProps } from './time-chart.tsx';

type ChartModule = typeof TimeChartModule;

let loading: Promise<ChartModule> | null = null;

export function LazyTimeChart(props: TimeChartProps) {
  const [loaded, setLoaded] = useState<ChartModule | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let live = true;
    loading ??= import('./time-chart.tsx');
    loading.then(
      (module) => {
        if (live) setLoaded(module);
      },
      () => {
        loading = null;
        if (live) setFailed(true);
      },
    );
    return () => {
      live = false;
    };
  }, []);
  if (loaded !== null) return <loaded.TimeChart {...props} />;
  return (
    <figure class="chart chart-loading">
      <figcaption>{props.title}</figcaption>
      <div class="chart-plot" />
      {failed && <p class="chart-empty">The chart code could not be loaded; reload the page.</p>}
    </figure>
  );
}
