// The dashboard: routes on its own path, reads /health and /api/*, and stays live over server-sent events.
import { latencyChart, outcomeChart } from './charts.js';
import { ago } from './format.js';
import { alertTable, badge, card, folkTable, h, heatmap, incidentTable, officialLine, outLink, probingLine, quietSentence } from './views.js';

const RANGES = { '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000, '90d': 90 * 86_400_000 };
/** Without the event stream, the page polls this often. */
const POLL_MS = 10_000;
/** The uptime bars change slowly: refetched at most this often. */
const UPTIME_MS = 60_000;
/** Changes arriving close together (every target probed in one second) make one refresh. */
const CHANGE_COALESCE_MS = 500;

const state = {
  demo: false,
  targets: [],
  health: new Map(),
  uptime: null,
  uptimeAt: 0,
  serverNow: Date.now(),
  fetchedAt: null,
  live: false,
  range: '24h',
  bands: [],
  /** The day picked in each target's uptime bar: kept across live updates. */
  selectedDay: new Map(),
  /** Health read by start() just now: the first page need not read it again. */
  prefetched: false,
  metric: 'overload',
  /** The last refresh's error while an older page stays shown. */
  failed: null,
  /** The path whose page is on screen (null: none, or the error page). */
  renderedPath: null,
};
const timings = (window.modelpulse = { firstChartMs: null, refreshes: 0 });

async function getJson(path) {
  const response = await fetch(path, { headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

async function loadHealth() {
  if (state.prefetched) {
    state.prefetched = false;
    return;
  }
  const body = await getJson('/api/health');
  for (const snapshot of body.targets) state.health.set(snapshot.target, snapshot);
  state.serverNow = Date.parse(body.generatedAt);
}

async function loadUptime(force) {
  if (!force && state.uptime && Date.now() - state.uptimeAt < UPTIME_MS) return;
  state.uptime = await getJson('/api/uptime');
  state.uptimeAt = Date.now();
}

function main() {
  return document.getElementById('main');
}

function setTitle(text) {
  document.title = `${text} · modelpulse${state.demo ? ' (demo)' : ''}`;
}

async function showOverview() {
  const [, , incidents] = await Promise.all([loadHealth(), loadUptime(false), getJson('/api/incidents?limit=200')]);
  setTitle('Overview');
  const uptimeOf = (id) => state.uptime?.targets.find((u) => u.target === id);
  // Newest first: the first incident of a target is its latest.
  const latestOf = (id) => incidents.incidents.find((i) => i.target === id);
  const pick = (id) => (day) => state.selectedDay.set(id, day);
  const cards = state.targets.map((t) =>
    card(t, state.health.get(t.id), uptimeOf(t.id), state.serverNow, latestOf(t.id), { selectedDay: state.selectedDay.get(t.id), onSelect: pick(t.id) }));
  replaceMain(h('h1', {}, 'Model status'), h('div', { class: 'cards' }, cards));
  main().dataset.view = 'overview';
}

/** Replaces the page's content, letting go of its charts (each holds its canvas and a resize observer). */
function replaceMain(...children) {
  keepingFocus(main(), () => {
    for (const canvas of main().querySelectorAll('canvas')) window.Chart.getChart(canvas)?.destroy();
    main().replaceChildren(...children);
  });
}

/**
 * Replaces part of the page; whatever in it had the keyboard focus (marked with data-focus-key)
 * has it again in the new content. Read at the moment of replacing, so a user who moved on meanwhile keeps their place.
 */
function keepingFocus(container, replace) {
  const key = container.contains(document.activeElement) ? document.activeElement.closest('[data-focus-key]')?.dataset.focusKey : undefined;
  replace();
  if (key && !container.contains(document.activeElement)) container.querySelector(`[data-focus-key="${CSS.escape(key)}"]`)?.focus({ preventScroll: true });
}

async function showTarget(id) {
  const target = state.targets.find((t) => t.id === id);
  if (!target) {
    replaceMain(h('h1', {}, 'Unknown target'), h('p', {}, `No target "${id}". `, h('a', { href: '/' }, 'Back to the overview')));
    main().dataset.view = 'unknown';
    return;
  }
  await loadHealth();
  const health = state.health.get(id);
  const to = state.serverNow;
  const from = to - RANGES[state.range];
  // The charts draw as soon as their series is here; the rest fills in behind them.
  const rest = Promise.all([
    getJson(`/api/targets/${encodeURIComponent(id)}/hours`),
    getJson(`/api/incidents?target=${encodeURIComponent(id)}&limit=50`),
    getJson('/api/status-sources'),
    getJson('/api/spend?days=7'),
  ]);
  const series = await getJson(`/api/targets/${encodeURIComponent(id)}/series?from=${from}&to=${to}`);
  setTitle(target.name ?? id);
  const view = `target:${id}:${state.range}:${state.metric}`;
  const fresh = main().dataset.view !== view;
  if (fresh) {
    const rangeButtons = Object.keys(RANGES).map((r) =>
      h('button', { type: 'button', 'aria-pressed': String(r === state.range), 'data-focus-key': `range:${r}`, onclick: () => { state.range = r; route(); } }, r));
    const metricButtons = [['overload', '503 share'], ['p95', 'p95 latency']].map(([m, label]) =>
      h('button', { type: 'button', 'aria-pressed': String(m === state.metric), 'data-focus-key': `metric:${m}`, onclick: () => { state.metric = m; route(); } }, label));
    replaceMain(
      h('p', { class: 'crumbs' }, h('a', { href: '/' }, 'Overview'), ' › ', target.id),
      h('div', { 'data-slot': 'head' }),
      h('div', { 'data-slot': 'probing' }),
      h('div', { class: 'toolbar', role: 'group', 'aria-label': 'Time range' }, rangeButtons),
      h('section', { 'aria-labelledby': 'latency-title' }, h('h2', { id: 'latency-title' }, 'Latency of successful calls'),
        h('div', { class: 'chart' }, h('canvas', { id: 'latency-chart', role: 'img', 'aria-label': `Latency p50, p95 and p99 over the last ${state.range}` }))),
      h('section', { 'aria-labelledby': 'outcome-title' }, h('h2', { id: 'outcome-title' }, 'Outcomes'),
        h('div', { class: 'chart' }, h('canvas', { id: 'outcome-chart', role: 'img', 'aria-label': `Outcomes per bucket over the last ${state.range}` }))),
      h('div', { 'data-slot': 'bands' }),
      h('section', { 'aria-labelledby': 'heat-title' },
        h('h2', { id: 'heat-title' }, 'Hour of week (UTC)'),
        h('div', { class: 'toolbar', role: 'group', 'aria-label': 'Heatmap metric' }, metricButtons),
        h('div', { 'data-slot': 'heat' })),
      h('section', { 'aria-labelledby': 'incidents-title' }, h('h2', { id: 'incidents-title' }, 'Incidents'), h('div', { 'data-slot': 'incidents' })),
    );
    main().dataset.view = view;
  }
  slot('head',
    h('header', { class: 'detail-head' }, h('h1', {}, target.name ?? id), health ? badge(health.status) : null),
    health ? h('p', { class: 'muted' }, `${target.model} · ${target.provider} · since ${ago(health.since ?? new Date(to).toISOString(), to)} · ${health.advice.reason}`) : null,
    health ? officialLine(health.official, to) : null,
  );
  const drawn = fresh ? [] : state.bands;
  latencyChart(document.getElementById('latency-chart'), series.points, from, to, drawn, series.stepSeconds * 1000);
  if (timings.firstChartMs === null) timings.firstChartMs = Math.round(performance.now());
  outcomeChart(document.getElementById('outcome-chart'), series.points, from, to, drawn);

  const [hours, incidents, sources, spend] = await rest;
  const spent = spend.targets.find((t) => t.target === id);
  slot('probing', probingLine(spent?.today ?? null, spent ?? null));
  const bands = sources.sources
    .filter((s) => s.targets.includes(id))
    .flatMap((s) => s.incidents.map((i) => ({ source: s.id, title: i.title, url: i.url, start: Date.parse(i.startedAt), end: i.endedAt ? Date.parse(i.endedAt) : to })))
    .filter((b) => b.end >= from && b.start <= to);
  state.bands = bands;
  slot('bands', bands.length
    ? h('section', { class: 'bands', 'aria-label': 'Official incidents in range' }, h('h3', {}, 'Official incidents (shaded)'),
        h('ul', {}, bands.map((b, n) => h('li', { 'data-band': b.source }, outLink(b.url, b.title, `band:${b.source}:${n}`), ` (${b.source})`))))
    : h('p', { class: 'muted bands-none' }, 'No official incidents in this range.'));
  slot('heat', quietSentence(hours), heatmap(hours, state.metric), folkTable(hours));
  slot('incidents', incidentTable(incidents.incidents, to, false));
  latencyChart(document.getElementById('latency-chart'), series.points, from, to, bands, series.stepSeconds * 1000);
  outcomeChart(document.getElementById('outcome-chart'), series.points, from, to, bands);
}

/** Replaces what a stable slot of the page holds, leaving the rest (charts, focus in toolbars) in place. */
function slot(name, ...children) {
  const target = main().querySelector(`[data-slot="${name}"]`);
  keepingFocus(target, () => target.replaceChildren(...children.filter(Boolean)));
}

async function showIncidents() {
  const incidents = await getJson('/api/incidents?limit=200');
  setTitle('Incidents');
  replaceMain(h('h1', {}, 'Incidents'), incidentTable(incidents.incidents, state.serverNow, true));
  main().dataset.view = 'incidents';
}

async function showAlerts() {
  const alerts = await getJson('/api/alerts?limit=200');
  setTitle('Alerts');
  replaceMain(h('h1', {}, 'Alert log'), alertTable(alerts.notifications, state.serverNow));
  main().dataset.view = 'alerts';
}

let routing = Promise.resolve();
/** Renders the page for the current path; renders queue so a slow one never overwrites a newer one. */
function route() {
  routing = routing.then(async () => {
    const path = location.pathname;
    const match = /^\/targets\/([^/]+)$/.exec(path);
    try {
      if (match) await showTarget(decodeURIComponent(match[1]));
      else if (path === '/incidents') await showIncidents();
      else if (path === '/alerts') await showAlerts();
      else await showOverview();
      for (const link of document.querySelectorAll('nav a')) {
        if (link.getAttribute('href') === path) link.setAttribute('aria-current', 'page');
        else link.removeAttribute('aria-current');
      }
      timings.refreshes++;
      state.fetchedAt = Date.now();
      state.renderedPath = path;
      state.failed = null;
      showFreshness();
    } catch (error) {
      // The page already shown for this path stays, marked stale; any other page that fails says so in its place.
      const message = String(error.message ?? error);
      if (state.renderedPath === path && main().dataset.view !== 'error') {
        state.failed = message;
        showFreshness();
        return;
      }
      replaceMain(h('h1', {}, 'Cannot reach modelpulse'), h('p', { role: 'alert' }, message));
      main().dataset.view = 'error';
      state.renderedPath = null;
    }
  });
  return routing;
}

function showFreshness() {
  const el = document.getElementById('freshness');
  if (state.fetchedAt === null) return;
  const age = Math.round((Date.now() - state.fetchedAt) / 1000);
  const updated = `updated ${age < 2 ? 'just now' : `${age} s ago`}`;
  el.textContent = state.failed ? `Update failed (${state.failed}) · showing data ${updated.replace('updated ', 'from ')}` : `${state.live ? 'Live' : 'Polling'} · ${updated}`;
  el.dataset.live = String(state.live);
  el.dataset.stale = String(state.failed !== null);
  // Quiet while all is well; a failure is announced.
  el.setAttribute('aria-live', state.failed ? 'polite' : 'off');
}

function listen() {
  const events = new EventSource('/api/events');
  events.addEventListener('hello', () => { state.live = true; showFreshness(); });
  let pending = null;
  events.addEventListener('change', () => {
    pending ??= setTimeout(() => { pending = null; route(); }, CHANGE_COALESCE_MS);
  });
  events.addEventListener('error', () => { state.live = false; showFreshness(); });
  setInterval(() => {
    if (!state.live) route();
    showFreshness();
  }, POLL_MS);
  setInterval(() => loadUptime(true).catch(() => {}), UPTIME_MS);
}

document.addEventListener('click', (event) => {
  const link = event.target.closest?.('a[href^="/"]');
  if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || link.target) return;
  event.preventDefault();
  if (link.getAttribute('href') !== location.pathname) history.pushState(null, '', link.getAttribute('href'));
  route().then(() => document.getElementById('main').focus({ preventScroll: true }));
});
window.addEventListener('popstate', () => route());

async function start() {
  const [targets] = await Promise.all([getJson('/api/targets'), loadHealth()]);
  state.prefetched = true;
  state.demo = targets.demo;
  state.targets = targets.targets;
  document.getElementById('demo-banner').hidden = !state.demo;
  await route();
  listen();
}

start().catch((error) => replaceMain(h('h1', {}, 'Cannot reach modelpulse'), h('p', { role: 'alert' }, String(error.message ?? error))));
