// The dashboard: routes on its own path, reads /health and /api/*, and stays live over server-sent events.
import { latencyChart, outcomeChart } from './charts.js';
import { ago, duration, offsetMinutes, secondsAgo, t, useWords, zoneLabel } from './format.js';
import { LANGUAGES, pickLanguage, translator } from './i18n.js';
import {
  alertTable,
  badge,
  card,
  folkTable,
  h,
  heatmap,
  incidentTable,
  metricName,
  officialLine,
  outLink,
  probingLine,
  quietSentence,
  reasonText,
  tNodes,
} from './views.js';

const RANGES = {
  '1h': 3_600_000,
  '24h': 86_400_000,
  '7d': 7 * 86_400_000,
  '30d': 30 * 86_400_000,
  '90d': 90 * 86_400_000,
};
/** Without the event stream, the page polls this often. */
const POLL_MS = 10_000;
/** The uptime bars change slowly: refetched at most this often. */
const UPTIME_MS = 60_000;
/** Changes arriving close together (every target probed in one second) make one refresh. */
const CHANGE_COALESCE_MS = 500;
/** The reader's choices, remembered in this browser. */
const LANGUAGE_KEY = 'modelpulse.language';
const ZONE_KEY = 'modelpulse.zone';
const LANGUAGE_NAMES = { en: 'language.en', ko: 'language.ko' };

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
  language: 'en',
  /** Times in the viewer's own zone ('local') or in UTC. */
  zoneMode: 'local',
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
  document.title = state.demo ? t('dash.title.demo', { page: text }) : t('dash.title', { page: text });
}

async function showOverview() {
  const [, , incidents] = await Promise.all([loadHealth(), loadUptime(false), getJson('/api/incidents?limit=200')]);
  setTitle(t('dash.nav.overview'));
  const uptimeOf = (id) => state.uptime?.targets.find((u) => u.target === id);
  // Newest first: the first incident of a target is its latest.
  const latestOf = (id) => incidents.incidents.find((i) => i.target === id);
  const pick = (id) => (day) => state.selectedDay.set(id, day);
  const cards = state.targets.map((t) =>
    card(t, state.health.get(t.id), uptimeOf(t.id), state.serverNow, latestOf(t.id), {
      selectedDay: state.selectedDay.get(t.id),
      onSelect: pick(t.id),
    }),
  );
  replaceMain(h('h1', {}, t('dash.overview.title')), h('div', { class: 'cards' }, cards));
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
  const key = container.contains(document.activeElement)
    ? document.activeElement.closest('[data-focus-key]')?.dataset.focusKey
    : undefined;
  replace();
  if (key && !container.contains(document.activeElement))
    container.querySelector(`[data-focus-key="${CSS.escape(key)}"]`)?.focus({ preventScroll: true });
}

async function showTarget(id) {
  const target = state.targets.find((t) => t.id === id);
  if (!target) {
    replaceMain(
      h('h1', {}, t('dash.unknown.title')),
      h('p', {}, tNodes('dash.unknown.text', { target: id, back: h('a', { href: '/' }, t('dash.unknown.back')) })),
    );
    main().dataset.view = 'unknown';
    return;
  }
  await loadHealth();
  const health = state.health.get(id);
  const to = state.serverNow;
  const from = to - RANGES[state.range];
  // The charts draw as soon as their series is here; the rest fills in behind them. The heatmap
  // folds the hours in the shown zone; the folk table's hours are UTC hours, shown converted.
  const offset = offsetMinutes(to);
  const hoursPath = `/api/targets/${encodeURIComponent(id)}/hours`;
  const rest = Promise.all([
    getJson(hoursPath),
    offset === 0 ? null : getJson(`${hoursPath}?offset=${offset}`),
    getJson(`/api/incidents?target=${encodeURIComponent(id)}&limit=50`),
    getJson('/api/status-sources'),
    getJson('/api/spend?days=7'),
  ]);
  const series = await getJson(`/api/targets/${encodeURIComponent(id)}/series?from=${from}&to=${to}`);
  setTitle(target.name ?? id);
  const view = `target:${id}:${state.range}:${state.metric}:${state.language}:${state.zoneMode}`;
  const fresh = main().dataset.view !== view;
  if (fresh) {
    const rangeButtons = Object.keys(RANGES).map((r) =>
      h(
        'button',
        {
          type: 'button',
          'data-range': r,
          'aria-pressed': String(r === state.range),
          'data-focus-key': `range:${r}`,
          onclick: () => {
            state.range = r;
            route();
          },
        },
        rangeWords(r),
      ),
    );
    const metricButtons = ['overload', 'p95'].map((m) =>
      h(
        'button',
        {
          type: 'button',
          'aria-pressed': String(m === state.metric),
          'data-focus-key': `metric:${m}`,
          onclick: () => {
            state.metric = m;
            route();
          },
        },
        metricName(m),
      ),
    );
    replaceMain(
      h('p', { class: 'crumbs' }, h('a', { href: '/' }, t('dash.nav.overview')), ' › ', target.id),
      h('div', { 'data-slot': 'head' }),
      h('div', { 'data-slot': 'probing' }),
      h('div', { class: 'toolbar', role: 'group', 'aria-label': t('dash.detail.range') }, rangeButtons),
      h(
        'section',
        { 'aria-labelledby': 'latency-title' },
        h('h2', { id: 'latency-title' }, t('dash.detail.latency')),
        h(
          'div',
          { class: 'chart' },
          h('canvas', {
            id: 'latency-chart',
            role: 'img',
            'aria-label': t('dash.detail.latencyLabel', { range: rangeWords(state.range) }),
          }),
        ),
      ),
      h(
        'section',
        { 'aria-labelledby': 'outcome-title' },
        h('h2', { id: 'outcome-title' }, t('dash.detail.outcomes')),
        h(
          'div',
          { class: 'chart' },
          h('canvas', {
            id: 'outcome-chart',
            role: 'img',
            'aria-label': t('dash.detail.outcomesLabel', { range: rangeWords(state.range) }),
          }),
        ),
      ),
      h('div', { 'data-slot': 'bands' }),
      h(
        'section',
        { 'aria-labelledby': 'heat-title' },
        h('h2', { id: 'heat-title' }, t('dash.heat.title', { zone: zoneLabel(to) })),
        h('div', { class: 'toolbar', role: 'group', 'aria-label': t('dash.heat.metric') }, metricButtons),
        h('div', { 'data-slot': 'heat' }),
      ),
      h(
        'section',
        { 'aria-labelledby': 'incidents-title' },
        h('h2', { id: 'incidents-title' }, t('dash.nav.incidents')),
        h('div', { 'data-slot': 'incidents' }),
      ),
    );
    main().dataset.view = view;
  }
  slot(
    'head',
    h('header', { class: 'detail-head' }, h('h1', {}, target.name ?? id), health ? badge(health.status) : null),
    health
      ? h(
          'p',
          { class: 'muted' },
          [
            target.model,
            target.provider,
            t('dash.detail.since', { ago: ago(health.since ?? new Date(to).toISOString(), to) }),
            reasonText(health.advice),
          ].join(' · '),
        )
      : null,
    health ? officialLine(health.official, to) : null,
  );
  const drawn = fresh ? [] : state.bands;
  latencyChart(document.getElementById('latency-chart'), series.points, from, to, drawn, series.stepSeconds * 1000);
  if (timings.firstChartMs === null) timings.firstChartMs = Math.round(performance.now());
  outcomeChart(document.getElementById('outcome-chart'), series.points, from, to, drawn);

  const [utcHours, zoneHours, incidents, sources, spend] = await rest;
  const spent = spend.targets.find((s) => s.target === id);
  slot('probing', probingLine(spent?.today ?? null, spent ?? null, to));
  const bands = sources.sources
    .filter((s) => s.targets.includes(id))
    .flatMap((s) =>
      s.incidents.map((i) => ({
        source: s.id,
        title: i.title,
        url: i.url,
        start: Date.parse(i.startedAt),
        end: i.endedAt ? Date.parse(i.endedAt) : to,
      })),
    )
    .filter((b) => b.end >= from && b.start <= to);
  state.bands = bands;
  slot(
    'bands',
    bands.length
      ? h(
          'section',
          { class: 'bands', 'aria-label': t('dash.bands.label') },
          h('h3', {}, t('dash.bands.title')),
          h(
            'ul',
            {},
            bands.map((b, n) =>
              h(
                'li',
                { 'data-band': b.source },
                tNodes('dash.bands.item', {
                  title: outLink(b.url, b.title, `band:${b.source}:${n}`),
                  source: b.source,
                }),
              ),
            ),
          ),
        )
      : h('p', { class: 'muted bands-none' }, t('dash.bands.none')),
  );
  const hours = zoneHours ?? utcHours;
  slot('heat', quietSentence(hours, to), heatmap(hours, state.metric, to), folkTable(utcHours, offset, to));
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
  setTitle(t('dash.nav.incidents'));
  replaceMain(h('h1', {}, t('dash.nav.incidents')), incidentTable(incidents.incidents, state.serverNow, true));
  main().dataset.view = 'incidents';
}

async function showAlerts() {
  const alerts = await getJson(`/api/alerts?limit=200&lang=${state.language}`);
  setTitle(t('dash.nav.alerts'));
  replaceMain(h('h1', {}, t('dash.alerts.title')), alertTable(alerts.notifications, state.serverNow));
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
      replaceMain(h('h1', {}, t('dash.error.title')), h('p', { role: 'alert' }, message));
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
  const when = age < 2 ? t('dash.fresh.justNow') : secondsAgo(age);
  el.textContent = state.failed
    ? t('dash.fresh.failed', { error: state.failed, when })
    : state.live
      ? t('dash.fresh.live', { when })
      : t('dash.fresh.polling', { when });
  el.dataset.live = String(state.live);
  el.dataset.stale = String(state.failed !== null);
  // Quiet while all is well; a failure is announced.
  el.setAttribute('aria-live', state.failed ? 'polite' : 'off');
}

function listen() {
  const events = new EventSource('/api/events');
  events.addEventListener('hello', () => {
    state.live = true;
    showFreshness();
  });
  let pending = null;
  events.addEventListener('change', () => {
    if (pending !== null) return;
    pending = setTimeout(() => {
      pending = null;
      route();
    }, CHANGE_COALESCE_MS);
  });
  events.addEventListener('error', () => {
    state.live = false;
    showFreshness();
  });
  setInterval(() => {
    if (!state.live) route();
    showFreshness();
  }, POLL_MS);
  setInterval(() => loadUptime(true).catch(() => {}), UPTIME_MS);
}

document.addEventListener('click', (event) => {
  const link = event.target.closest?.('a[href^="/"]');
  if (
    !link ||
    event.defaultPrevented ||
    event.button !== 0 ||
    event.metaKey ||
    event.ctrlKey ||
    event.shiftKey ||
    link.target
  )
    return;
  event.preventDefault();
  if (link.getAttribute('href') !== location.pathname) history.pushState(null, '', link.getAttribute('href'));
  route().then(() => document.getElementById('main').focus({ preventScroll: true }));
});
window.addEventListener('popstate', () => route());

/** A range in words: "24 h", "7 d", "7일". */
function rangeWords(range) {
  return duration(RANGES[range] / 1000);
}

/** What the reader chose before in this browser; null when nothing was, or storage is off (private mode, policy). */
function remembered(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function remember(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    // The choice then lasts until the page is left.
  }
}

function preferredTags() {
  return navigator.languages?.length ? navigator.languages : [navigator.language ?? 'en'];
}

/** The reader's language: the one they picked here before, else the browser's first we speak. */
function chosenLanguage() {
  const saved = remembered(LANGUAGE_KEY);
  return LANGUAGES.includes(saved) ? saved : pickLanguage(preferredTags());
}

async function applyPreferences() {
  const catalog = await getJson(`/assets/i18n/${state.language}.json`);
  const local = Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC';
  // Dates and numbers in the reader's own variant of the language (en-GB writes 20 Nov, en-US Nov 20).
  const tag = preferredTags().find((l) => l.toLowerCase().split('-')[0] === state.language) ?? state.language;
  useWords(translator(catalog, tag), state.zoneMode === 'utc' ? 'UTC' : local);
  document.documentElement.lang = state.language;
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  document.querySelector('nav').setAttribute('aria-label', t('dash.nav.label'));
  document.getElementById('demo-banner').replaceChildren(
    ...tNodes('dash.demo', {
      demo: h('strong', {}, t('dash.demo.title')),
      key: h('code', {}, 'GEMINI_API_KEY'),
      file: h('code', {}, 'modelpulse.yaml'),
    }),
  );
  preferenceControls(local);
}

/** The language switch and the UTC toggle in the header; each choice is remembered in this browser. */
function preferenceControls(localZone) {
  const choose = (key, value, apply) => () => {
    remember(key, value);
    apply();
    applyPreferences()
      .then(() => {
        main().dataset.view = '';
        return route();
      })
      .catch((error) => {
        state.failed = String(error.message ?? error);
        showFreshness();
      });
  };
  const languages = LANGUAGES.map((language) =>
    h(
      'button',
      {
        type: 'button',
        lang: language,
        'data-language': language,
        'aria-pressed': String(language === state.language),
        onclick: choose(LANGUAGE_KEY, language, () => {
          state.language = language;
        }),
      },
      t(LANGUAGE_NAMES[language]),
    ),
  );
  const zones = [
    ['local', t('dash.zone.local', { zone: localZone })],
    ['utc', 'UTC'],
  ];
  const zoneButtons = zones.map(([mode, label]) =>
    h(
      'button',
      {
        type: 'button',
        'data-zone': mode,
        'aria-pressed': String(mode === state.zoneMode),
        onclick: choose(ZONE_KEY, mode, () => {
          state.zoneMode = mode;
        }),
      },
      label,
    ),
  );
  document
    .getElementById('prefs')
    .replaceChildren(
      h('div', { class: 'toolbar', role: 'group', 'aria-label': t('dash.prefs.language') }, languages),
      h('div', { class: 'toolbar', role: 'group', 'aria-label': t('dash.prefs.zone') }, zoneButtons),
    );
}

async function start() {
  state.language = chosenLanguage();
  state.zoneMode = remembered(ZONE_KEY) === 'utc' ? 'utc' : 'local';
  await applyPreferences();
  const [targets] = await Promise.all([getJson('/api/targets'), loadHealth()]);
  state.prefetched = true;
  state.demo = targets.demo;
  state.targets = targets.targets;
  document.getElementById('demo-banner').hidden = !state.demo;
  await route();
  listen();
}

// In English: the catalog itself may be what failed to load.
start().catch((error) =>
  replaceMain(h('h1', {}, 'Cannot reach modelpulse'), h('p', { role: 'alert' }, String(error.message ?? error))),
);
