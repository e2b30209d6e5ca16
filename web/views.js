// The dashboard's views, built as DOM nodes (never HTML strings: titles come from status pages).
import { ago, day, duration, latency, OFFICIAL_LABELS, share, STATE_LABELS, weekWindow, when, WEEKDAYS } from './format.js';

/** h('p', { class: 'x' }, 'text', child) → an element. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) if (child !== null && child !== undefined && child !== false) el.append(child);
  return el;
}

/** Only web links leave the page: a status page could publish javascript: or data: URLs. */
export function safeHref(url) {
  return typeof url === 'string' && /^https?:\/\//i.test(url) ? url : null;
}

/** A link out, or plain text when the URL is not a web address. */
export function outLink(url, text, focusKey) {
  const href = safeHref(url);
  return href ? h('a', { href, rel: 'noopener noreferrer', target: '_blank', 'data-focus-key': focusKey }, text) : text;
}

export function badge(state) {
  return h('span', { class: `badge state-${state}`, 'data-state': state }, h('span', { class: 'dot', 'aria-hidden': 'true' }), STATE_LABELS[state] ?? state);
}

function adviceLine(advice) {
  if (advice.send) {
    return h('p', { class: 'advice send' }, h('strong', {}, 'Send'), ` · timeout ${advice.timeoutSeconds} s`);
  }
  return h('p', { class: 'advice hold' },
    h('strong', {}, 'Hold'),
    advice.retryAfterSeconds !== null ? ` · retry after ${duration(advice.retryAfterSeconds)}` : '',
    ` · timeout ${advice.timeoutSeconds} s`,
    advice.alternative ? [' · use ', h('a', { href: `/targets/${encodeURIComponent(advice.alternative)}`, 'data-focus-key': `alternative:${advice.alternative}` }, advice.alternative)] : '',
  );
}

export function officialLine(official, nowMs) {
  if (!official) return h('p', { class: 'official muted' }, 'No status page mapped');
  const status = OFFICIAL_LABELS[official.status] ?? official.status;
  return h('div', { class: 'official' },
    h('p', {}, 'Status page: ', h('strong', { class: `official-${official.status}` }, status), ` (${official.source})`, official.stale ? ' · stale' : ''),
    official.incident ? h('p', {}, outLink(official.incident.url, official.incident.title, `official:${official.source}`), ` · since ${when(official.incident.startedAt, nowMs)}`) : null,
    official.greenWhileFailingSince ? h('p', { class: 'flag', role: 'status' }, '⚠ Status page green while failing', ` since ${when(official.greenWhileFailingSince, nowMs)}`) : null,
  );
}

function uptimeClass(d) {
  if (d.uptime === null) return 'nodata';
  if (d.uptime >= 0.995) return 'up';
  if (d.uptime >= 0.95) return 'minor';
  if (d.uptime >= 0.8) return 'major';
  return 'out';
}

function dayText(d) {
  if (d.uptime === null) return `${day(d.day)}: no data`;
  const incidents = d.incidents.length ? ` · ${d.incidents.length} incident${d.incidents.length === 1 ? '' : 's'} (worst ${STATE_LABELS[worstOf(d.incidents)]})` : ' · no incidents';
  return `${day(d.day)}: ${share(d.uptime)} up · ${share(d.overloadRate)} 503 · p95 ${latency(d.p95Ms)}${incidents}`;
}

const RANK = { down: 4, overloaded: 3, degraded: 2, unknown: 1, healthy: 0 };
function worstOf(incidents) {
  return incidents.map((i) => i.worstState).sort((a, b) => RANK[b] - RANK[a])[0];
}

/**
 * One cell per day, oldest first; hover, tap or arrow keys show a day's figures below the bar. The
 * picked day survives live updates: `selectedDay` comes back in, `onSelect` reports a new pick.
 */
export function uptimeBar(days, focusKey, selectedDay, onSelect) {
  const detail = h('p', { class: 'day-detail', 'aria-live': 'polite' }, 'Hover, tap or use the arrow keys for a day’s figures');
  let selected = days.length - 1;
  const cells = days.map((d, i) => h('span', { class: `cell ${uptimeClass(d)}`, title: dayText(d), 'data-day': d.day, 'data-kind': uptimeClass(d), onmouseenter: () => select(i), onclick: () => select(i) }));
  const bar = h('div', { class: 'bar', tabindex: 0, role: 'group', 'data-focus-key': focusKey, 'aria-label': `Uptime per day over the last ${days.length} days; arrow keys move between days` }, cells);
  function show(i) {
    selected = Math.max(0, Math.min(days.length - 1, i));
    cells.forEach((c, n) => c.classList.toggle('selected', n === selected));
    detail.textContent = dayText(days[selected]);
  }
  function select(i) {
    show(i);
    onSelect?.(days[selected].day);
  }
  bar.addEventListener('keydown', (event) => {
    const moves = { ArrowLeft: -1, ArrowRight: 1, Home: -Infinity, End: Infinity };
    if (!(event.key in moves)) return;
    event.preventDefault();
    const step = moves[event.key];
    select(Number.isFinite(step) ? selected + step : step < 0 ? 0 : days.length - 1);
  });
  bar.addEventListener('focus', () => select(selected));
  const picked = days.findIndex((d) => d.day === selectedDay);
  if (picked >= 0) show(picked);
  return h('div', { class: 'uptime-bar' }, bar, h('div', { class: 'bar-ends', 'aria-hidden': 'true' }, h('span', {}, `${days.length} days ago`), h('span', {}, 'today')), detail);
}

/** Our latest incident of the last day and how late the provider said so. */
function lastIncidentLine(incident, nowMs) {
  if (!incident || !incident.official) return null;
  const recent = incident.endedAt === null || nowMs - Date.parse(incident.endedAt) < 86_400_000;
  if (!recent) return null;
  return h('p', { class: 'ack' },
    `Our incident ${incident.endedAt === null ? 'since' : 'at'} ${when(incident.startedAt, nowMs)}${incident.endedAt === null ? '' : ` (${duration(incident.durationSeconds)})`}: provider `,
    ackText(incident.official));
}

export function card(target, health, uptime, nowMs, latestIncident, bar = {}) {
  const observed = health?.observed;
  const state = health?.status ?? 'unknown';
  const last = health?.lastProbe;
  return h('article', { class: `card state-${state}`, 'data-target': target.id, 'aria-labelledby': `title-${target.id}` },
    h('header', {},
      h('h2', { id: `title-${target.id}` }, h('a', { href: `/targets/${encodeURIComponent(target.id)}`, 'data-focus-key': `title:${target.id}` }, target.name ?? target.id)),
      badge(state),
    ),
    h('p', { class: 'since muted' }, health?.since ? `since ${when(health.since, nowMs)} (${ago(health.since, nowMs)})` : 'no data yet', ` · ${target.model}`),
    h('dl', { class: 'figures' },
      h('div', {}, h('dt', {}, `503 share (${observed?.window ?? '–'})`), h('dd', { 'data-figure': 'overload' }, share(observed?.overloadRate))),
      h('div', {}, h('dt', {}, 'p95 latency'), h('dd', { 'data-figure': 'p95' }, latency(observed?.latencyMs?.p95))),
      h('div', {}, h('dt', {}, 'Last probe'), h('dd', {}, last ? `${last.outcome} · ${latency(last.latencyMs)} · ${ago(last.at, nowMs)}` : '–')),
    ),
    health ? adviceLine(health.advice) : null,
    health ? officialLine(health.official, nowMs) : null,
    lastIncidentLine(latestIncident, nowMs),
    uptime
      ? h('section', { class: 'uptime', 'aria-label': 'Uptime' },
          h('p', { class: 'uptime-figures' }, `Uptime 24 h ${share(uptime.uptime['24h'])} · 30 d ${share(uptime.uptime['30d'])} · 90 d ${share(uptime.uptime['90d'])}`),
          uptimeBar(uptime.days, `bar:${target.id}`, bar.selectedDay, bar.onSelect),
        )
      : null,
  );
}

/** The hour-of-week heatmap of the 503 share or of p95, with the quietest window in words. */
export function heatmap(hours, metric) {
  const values = hours.cells.map((c) => (metric === 'p95' ? c.p95Ms : c.overloadRate));
  const max = Math.max(0, ...values.filter((v) => v !== null));
  const label = (v) => (metric === 'p95' ? latency(v) : share(v));
  const rows = WEEKDAYS.map((name, d) =>
    h('tr', {}, h('th', { scope: 'row' }, name),
      Array.from({ length: 24 }, (_, hour) => {
        const v = values[d * 24 + hour];
        // A square-root scale: small shares (the quiet hours this map is for) still differ from nothing at all.
        const level = v === null ? 'nodata' : String(max > 0 && v > 0 ? Math.min(4, 1 + Math.floor(Math.sqrt(v / max) * 3.999)) : 0);
        const text = `${name} ${String(hour).padStart(2, '0')}:00 UTC: ${v === null ? 'no data' : label(v)}`;
        return h('td', { class: `heat l${level}`, title: text }, h('span', { class: 'sr-only' }, text));
      })));
  const head = h('tr', {}, h('td', {}), Array.from({ length: 24 }, (_, hour) => h('th', { scope: 'col' }, hour % 3 === 0 ? String(hour).padStart(2, '0') : '')));
  return h('div', { class: 'heatmap-wrap' }, h('table', { class: 'heatmap', 'aria-label': `${metric === 'p95' ? 'p95 latency' : '503 share'} by hour of week, UTC` }, h('thead', {}, head), h('tbody', {}, rows)));
}

export function quietSentence(hours) {
  if (!hours.quietest) return h('p', { class: 'quietest' }, 'Quietest window: not enough data yet (every hour of a 4-hour run needs probes).');
  const q = hours.quietest;
  return h('p', { class: 'quietest', 'data-start': q.start }, h('strong', {}, `quietest: ${weekWindow(q.start, q.hours)} UTC, ${share(q.overloadRate)} 503`), ` over ${q.samples} calls in the last ${Math.round((Date.parse(hours.to) - Date.parse(hours.from)) / 86_400_000)} days`);
}

export function folkTable(hours) {
  const pad = (n) => String(n).padStart(2, '0');
  return h('table', { class: 'folk' },
    h('caption', {}, 'Folk wisdom (busy UTC hours) against what we measured'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'UTC hours'), h('th', { scope: 'col' }, 'folk says'), h('th', { scope: 'col' }, 'measured 503'), h('th', { scope: 'col' }, 'measured rank'))),
    h('tbody', {}, hours.blocks.map((b) => h('tr', {}, h('td', {}, `${pad(b.from)}–${pad(b.to)}`), h('td', {}, b.folk), h('td', {}, share(b.overloadRate)), h('td', {}, b.rank === null ? '–' : b.rank === 1 ? 'busiest' : b.rank === 4 ? 'quietest' : `#${b.rank}`)))),
  );
}

export function incidentTable(incidents, nowMs, withTarget) {
  if (incidents.length === 0) return h('p', { class: 'muted' }, 'No incidents in this range.');
  return h('div', { class: 'table-wrap' }, h('table', { class: 'incidents' },
    h('thead', {}, h('tr', {}, withTarget ? h('th', { scope: 'col' }, 'Target') : null, ['Started', 'Duration', 'Worst', 'Cause', 'Provider acknowledged'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, incidents.map((i) => h('tr', {},
      withTarget ? h('td', {}, h('a', { href: `/targets/${encodeURIComponent(i.target)}`, 'data-focus-key': `incident:${i.id}` }, i.target)) : null,
      h('td', {}, when(i.startedAt, nowMs)),
      h('td', {}, `${duration(i.durationSeconds)}${i.endedAt ? '' : ' (ongoing)'}`),
      h('td', {}, badge(i.worstState)),
      h('td', {}, causeText(i.cause)),
      h('td', {}, ackText(i.official)),
    ))),
  ));
}

function causeText(cause) {
  switch (cause.kind) {
    case 'overload': return `503 overloaded (${share(cause.share)})`;
    case 'rate_limited': return `429 rate limited (${share(cause.share)})`;
    case 'auth': return `auth (HTTP ${cause.httpStatus ?? '?'})`;
    case 'config': return `config (HTTP ${cause.httpStatus ?? '?'})`;
    case 'failing': return `failing: ${cause.dominant}`;
    case 'errors': return `errors (${share(cause.share)})`;
    case 'slow': return `slow (p50 ${latency(cause.p50Ms)} vs ${latency(cause.baselineMs)})`;
    default: return '–';
  }
}

function ackText(official) {
  if (!official) return 'no status page mapped';
  if (official.acknowledgedAt === null) return official.delayMinutes === null ? 'not posted yet' : 'never posted (counted as 240 min)';
  const d = official.delayMinutes;
  const text = d <= 0 ? 'posted before we saw it' : `posted ${duration(d * 60)} after onset`;
  return outLink(official.incidentUrl, text, `ack:${official.source}:${official.acknowledgedAt}`);
}

export function alertTable(notifications, nowMs) {
  if (notifications.length === 0) return h('p', { class: 'muted' }, 'No alerts yet.');
  return h('div', { class: 'table-wrap' }, h('table', { class: 'alerts' },
    h('thead', {}, h('tr', {}, ['When', 'Target', 'Alert', 'Channel', 'Delivery'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, notifications.map((n) => h('tr', {},
      h('td', {}, when(n.createdAt, nowMs)),
      h('td', {}, n.target),
      // A grouped mail's subject names all its alerts: the row's own headline comes first.
      h('td', {}, n.headline, n.subject && !n.subject.includes(n.headline) ? h('span', { class: 'muted subject' }, ` (mail: ${n.subject})`) : null),
      h('td', {}, n.channel),
      h('td', { class: `delivery ${n.status}` }, n.status, n.attempts > 1 ? ` after ${n.attempts} attempts` : '', n.lastError && n.status !== 'delivered' ? ` · ${n.lastError}` : ''),
    ))),
  ));
}

/** Money as the API gives it, in US dollars: cents once it is that much, else four decimals. */
function usd(value) {
  return `$${value >= 0.995 ? value.toFixed(2) : value.toFixed(4)}`;
}

/** How the target is probed now, and what it costs: the interval in force, the budget, today and the week. */
export function probingLine(probing, spend) {
  if (!probing) return null;
  const budget = probing.budgetPerDayUsd === null ? 'no budget' : `budget ${usd(probing.budgetPerDayUsd)} a day`;
  const skipped = probing.skippedToday.reports > 0 ? `, ${probing.skippedToday.reports} skipped while app reports covered it` : '';
  const week = spend ? ` · ${usd(spend.totalUsd)} over ${spend.days.length === 1 ? 'today' : `the last ${spend.days.length} days`}` : '';
  const text = `Canaries every ${duration(probing.everySeconds)} · ${budget} · ${usd(probing.spentTodayUsd)} spent today (${probing.probesToday} probes${skipped})${week}`;
  return h('p', { class: 'muted probing' },
    probing.budgetExhausted ? h('strong', {}, 'Budget spent for today: no canaries until 00:00 UTC. ') : null,
    text);
}
