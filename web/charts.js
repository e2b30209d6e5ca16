// Chart.js on its fast paths: pre-parsed {x, y} points, no animation, LTTB decimation on lines.
import { moment, offsetMinutes, t, tick } from './format.js';

const OUTCOME_CLASSES = [
  'ok',
  'overloaded',
  'rate_limited',
  'timeout',
  'server_error',
  'client_error',
  'network',
  'bad_output',
];
const OUTCOME_KEYS = {
  ok: 'dash.chart.ok',
  overloaded: 'dash.chart.overloaded',
  rate_limited: 'dash.chart.rate_limited',
  timeout: 'dash.chart.timeout',
  server_error: 'dash.chart.server_error',
  client_error: 'dash.chart.client_error',
  network: 'dash.chart.network',
  bad_output: 'dash.chart.bad_output',
};

function palette() {
  const css = getComputedStyle(document.documentElement);
  const v = (name) => css.getPropertyValue(name).trim();
  return {
    fg: v('--fg'),
    muted: v('--muted'),
    grid: v('--grid'),
    band: v('--band'),
    ok: v('--ok'),
    overloaded: v('--overloaded'),
    rate_limited: v('--warn'),
    timeout: v('--down'),
    server_error: v('--bad'),
    client_error: v('--muted'),
    network: v('--violet'),
    bad_output: v('--pink'),
    p50: v('--ok'),
    p95: v('--warn'),
    p99: v('--bad'),
  };
}

/** Draws the provider's own incidents as shaded bands behind the data. */
const officialBands = {
  id: 'officialBands',
  beforeDatasetsDraw(chart, _args, options) {
    const { ctx, chartArea, scales } = chart;
    let drawn = 0;
    ctx.save();
    ctx.fillStyle = options.color;
    for (const band of options.bands ?? []) {
      const left = Math.max(chartArea.left, scales.x.getPixelForValue(band.start));
      const right = Math.min(chartArea.right, scales.x.getPixelForValue(band.end));
      if (right <= left) continue;
      ctx.fillRect(left, chartArea.top, Math.max(2, right - left), chartArea.bottom - chartArea.top);
      drawn++;
    }
    ctx.restore();
    chart.canvas.dataset.bands = String(drawn);
  },
};

const MINUTE = 60_000;
const TICK_STEPS = [5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080, 20160].map((m) => m * MINUTE);

/**
 * Ticks on round times of the shown zone: at most six across the range. Each is moved by the zone's
 * offset at its own moment, so a midnight before a change to or from summer time stays at midnight.
 */
function timeTicks(from, to) {
  const step = TICK_STEPS.find((s) => (to - from) / s <= 6) ?? TICK_STEPS.at(-1);
  const shift = offsetMinutes(to) * MINUTE;
  const ticks = [];
  for (let at = Math.ceil((from + shift) / step) * step - shift; at <= to; at += step) {
    const value = at + shift - offsetMinutes(at) * MINUTE;
    if (value >= from && value <= to) ticks.push({ value });
  }
  return ticks;
}

function baseOptions(colors, from, to, bands, yTitle, stacked) {
  return {
    animation: false,
    parsing: false,
    normalized: true,
    responsive: true,
    maintainAspectRatio: false,
    interaction: { mode: 'nearest', axis: 'x', intersect: false },
    scales: {
      x: {
        type: 'linear',
        min: from,
        max: to,
        stacked,
        offset: false,
        afterBuildTicks: (axis) => {
          axis.ticks = timeTicks(from, to);
        },
        ticks: { color: colors.muted, maxRotation: 0, autoSkip: false, callback: (value) => tick(value, to - from) },
        grid: { color: colors.grid },
      },
      y: {
        beginAtZero: true,
        stacked,
        title: { display: true, text: yTitle, color: colors.muted },
        ticks: { color: colors.muted },
        grid: { color: colors.grid },
      },
    },
    plugins: {
      legend: { labels: { color: colors.fg, boxWidth: 12 } },
      tooltip: { callbacks: { title: (items) => (items[0] ? moment(items[0].parsed.x) : '') } },
      decimation: { enabled: true, algorithm: 'lttb', samples: 400 },
      officialBands: { bands, color: colors.band },
    },
  };
}

function upsert(canvas, config) {
  const existing = window.Chart.getChart(canvas);
  if (existing) {
    existing.data = config.data;
    existing.options = config.options;
    existing.update('none');
    return existing;
  }
  return new window.Chart(canvas, config);
}

/**
 * The series holds only buckets with data: a null is put after each bucket followed by a gap, so
 * a line breaks over days without probes instead of bridging them.
 */
function withGaps(points, stepMs, value) {
  const out = [];
  points.forEach((p, i) => {
    const x = Date.parse(p.t);
    out.push({ x, y: value(p) });
    const next = points[i + 1];
    if (next && Date.parse(next.t) - x > 1.5 * stepMs) out.push({ x: x + stepMs, y: null });
  });
  return out;
}

/** p50, p95 and p99 of successful calls, in seconds. */
export function latencyChart(canvas, points, from, to, bands, stepMs) {
  const colors = palette();
  const line = (key, label) => ({
    label,
    borderColor: colors[key],
    backgroundColor: colors[key],
    borderWidth: 1.5,
    spanGaps: false,
    // Few points: each shows, so a lone bucket is not invisible.
    pointRadius: points.length <= 60 ? 2 : 0,
    data: withGaps(points, stepMs, (p) => (p.latencyMs[key] === null ? null : p.latencyMs[key] / 1000)),
  });
  return upsert(canvas, {
    type: 'line',
    data: { datasets: [line('p50', 'p50'), line('p95', 'p95'), line('p99', 'p99')] },
    options: baseOptions(colors, from, to, bands, t('dash.chart.seconds'), false),
    plugins: [officialBands],
  });
}

/** Calls per outcome class, stacked per bucket; classes never seen in the range are left out. */
export function outcomeChart(canvas, points, from, to, bands) {
  const colors = palette();
  const seen = OUTCOME_CLASSES.filter((c) => points.some((p) => p.counts[c] > 0));
  const datasets = seen.map((c) => ({
    label: t(OUTCOME_KEYS[c]),
    backgroundColor: colors[c],
    borderWidth: 0,
    barPercentage: 1,
    categoryPercentage: 1,
    data: points.map((p) => ({ x: Date.parse(p.t), y: p.counts[c] })),
  }));
  return upsert(canvas, {
    type: 'bar',
    data: { datasets },
    options: baseOptions(colors, from, to, bands, t('dash.chart.calls'), true),
    plugins: [officialBands],
  });
}
