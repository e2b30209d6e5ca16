// The dashboard's views, built as DOM nodes (never HTML strings: titles come from status pages).
import {
  ago,
  CHANNEL_KEYS,
  clockOf,
  day,
  DELIVERY_KEYS,
  duration,
  FOLK_KEYS,
  hourOfDay,
  latency,
  OFFICIAL_KEYS,
  OUTCOME_KEYS,
  share,
  STATE_KEYS,
  t,
  usd,
  weekdays,
  weekWindow,
  when,
  windowWords,
  word,
  zoneLabel,
} from './format.js';

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

/**
 * A message whose slots hold elements (a link, a bold word): the catalog's template split around
 * them, so each language places them where its grammar wants.
 */
export function tNodes(key, params) {
  const marks = {};
  const text = t(
    key,
    Object.fromEntries(
      Object.entries(params).map(([name, value]) => {
        if (typeof value === 'string' || typeof value === 'number') return [name, value];
        marks[name] = value;
        return [name, `\u0000${name}\u0000`];
      }),
    ),
  );
  return text
    .split('\u0000')
    .map((part, i) => (i % 2 === 1 ? marks[part] : part))
    .filter((part) => part !== '');
}

/** Parts of one line, " · " between them. */
function dotted(parts) {
  return parts.filter(Boolean).flatMap((part, i) => (i === 0 ? [part] : [' · ', part]));
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
  return h(
    'span',
    { class: `badge state-${state}`, 'data-state': state },
    h('span', { class: 'dot', 'aria-hidden': 'true' }),
    word(STATE_KEYS, state),
  );
}

function adviceLine(advice) {
  const timeout = t('dash.advice.timeout', { seconds: advice.timeoutSeconds });
  if (advice.send) return h('p', { class: 'advice send' }, dotted([h('strong', {}, t('dash.advice.send')), timeout]));
  const alternative = advice.alternative
    ? tNodes('dash.advice.use', {
        alternative: h(
          'a',
          {
            href: `/targets/${encodeURIComponent(advice.alternative)}`,
            'data-focus-key': `alternative:${advice.alternative}`,
          },
          advice.alternative,
        ),
      })
    : null;
  return h(
    'p',
    { class: 'advice hold' },
    dotted([
      h('strong', {}, t('dash.advice.hold')),
      advice.retryAfterSeconds !== null
        ? t('dash.advice.retryAfter', { wait: duration(advice.retryAfterSeconds) })
        : null,
      timeout,
      alternative,
    ]),
  );
}

/** Why /health advises what it does, in the reader's language (an older service sends English only). */
export function reasonText(advice) {
  return advice.reasonMessage ? t(advice.reasonMessage.key, advice.reasonMessage.params) : advice.reason;
}

export function officialLine(official, nowMs) {
  if (!official) return h('p', { class: 'official muted' }, t('dash.official.none'));
  const status = h('strong', { class: `official-${official.status}` }, word(OFFICIAL_KEYS, official.status));
  return h(
    'div',
    { class: 'official' },
    h(
      'p',
      {},
      tNodes(official.stale ? 'dash.official.statusStale' : 'dash.official.status', {
        status,
        source: official.source,
      }),
    ),
    official.incident
      ? h(
          'p',
          {},
          tNodes('dash.official.incident', {
            incident: outLink(official.incident.url, official.incident.title, `official:${official.source}`),
            since: when(official.incident.startedAt, nowMs),
          }),
        )
      : null,
    official.greenWhileFailingSince
      ? h(
          'p',
          { class: 'flag', role: 'status' },
          t('dash.official.greenWhileFailing', { since: when(official.greenWhileFailingSince, nowMs) }),
        )
      : null,
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
  if (d.uptime === null) return t('dash.day.noData', { day: day(d.day) });
  const incidents = d.incidents.length
    ? t('dash.day.incidents', { count: d.incidents.length, worst: word(STATE_KEYS, worstOf(d.incidents)) })
    : t('dash.day.noIncidents');
  return t('dash.day.figures', {
    day: day(d.day),
    uptime: share(d.uptime),
    overload: share(d.overloadRate),
    p95: latency(d.p95Ms),
    incidents,
  });
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
  const detail = h('p', { class: 'day-detail', 'aria-live': 'polite' }, t('dash.bar.hint'));
  let selected = days.length - 1;
  const cells = days.map((d, i) =>
    h('span', {
      class: `cell ${uptimeClass(d)}`,
      title: dayText(d),
      'data-day': d.day,
      'data-kind': uptimeClass(d),
      onmouseenter: () => select(i),
      onclick: () => select(i),
    }),
  );
  const bar = h(
    'div',
    {
      class: 'bar',
      tabindex: 0,
      role: 'group',
      'data-focus-key': focusKey,
      'aria-label': t('dash.bar.label', { count: days.length }),
    },
    cells,
  );
  function show(i) {
    selected = Math.max(0, Math.min(days.length - 1, i));
    for (const [n, c] of cells.entries()) c.classList.toggle('selected', n === selected);
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
  return h(
    'div',
    { class: 'uptime-bar' },
    bar,
    h(
      'div',
      { class: 'bar-ends', 'aria-hidden': 'true' },
      h('span', {}, t('dash.bar.start', { count: days.length })),
      h('span', {}, t('dash.bar.today')),
    ),
    detail,
  );
}

/** Our latest incident of the last day and how late the provider said so. */
function lastIncidentLine(incident, nowMs) {
  if (!incident?.official) return null;
  const recent = incident.endedAt === null || nowMs - Date.parse(incident.endedAt) < 86_400_000;
  if (!recent) return null;
  const start = when(incident.startedAt, nowMs);
  const ack = ackText(incident.official);
  return h(
    'p',
    { class: 'ack' },
    incident.endedAt === null
      ? tNodes('dash.ack.ongoing', { start, ack })
      : tNodes('dash.ack.ended', { start, lasted: duration(incident.durationSeconds), ack }),
  );
}

export function card(target, health, uptime, nowMs, latestIncident, bar = {}) {
  const observed = health?.observed;
  const state = health?.status ?? 'unknown';
  const last = health?.lastProbe;
  return h(
    'article',
    { class: `card state-${state}`, 'data-target': target.id, 'aria-labelledby': `title-${target.id}` },
    h(
      'header',
      {},
      h(
        'h2',
        { id: `title-${target.id}` },
        h(
          'a',
          { href: `/targets/${encodeURIComponent(target.id)}`, 'data-focus-key': `title:${target.id}` },
          target.name ?? target.id,
        ),
      ),
      badge(state),
    ),
    h(
      'p',
      { class: 'since muted' },
      dotted([
        health?.since
          ? t('dash.card.since', { when: when(health.since, nowMs), ago: ago(health.since, nowMs) })
          : t('dash.card.noData'),
        target.model,
      ]),
    ),
    h(
      'dl',
      { class: 'figures' },
      h(
        'div',
        {},
        h('dt', {}, t('dash.card.overload', { window: windowWords(observed?.window) })),
        h('dd', { 'data-figure': 'overload' }, share(observed?.overloadRate)),
      ),
      h(
        'div',
        {},
        h('dt', {}, t('dash.card.p95')),
        h('dd', { 'data-figure': 'p95' }, latency(observed?.latencyMs?.p95)),
      ),
      h(
        'div',
        {},
        h('dt', {}, t('dash.card.lastProbe')),
        h(
          'dd',
          {},
          last ? dotted([word(OUTCOME_KEYS, last.outcome), latency(last.latencyMs), ago(last.at, nowMs)]) : '–',
        ),
      ),
    ),
    health ? adviceLine(health.advice) : null,
    health ? officialLine(health.official, nowMs) : null,
    lastIncidentLine(latestIncident, nowMs),
    uptime
      ? h(
          'section',
          { class: 'uptime', 'aria-label': t('dash.card.uptimeLabel') },
          h(
            'p',
            { class: 'uptime-figures' },
            t('dash.card.uptime', {
              day: share(uptime.uptime['24h']),
              month: share(uptime.uptime['30d']),
              quarter: share(uptime.uptime['90d']),
            }),
          ),
          uptimeBar(uptime.days, `bar:${target.id}`, bar.selectedDay, bar.onSelect),
        )
      : null,
  );
}

/** The name of a heatmap metric. */
export function metricName(metric) {
  return metric === 'p95' ? t('dash.metric.p95') : t('dash.metric.overload');
}

/** In a zone off the hour (India, +5:30), each hour of the week folded there starts this many minutes past. */
function pastTheHour(hours) {
  return (((hours.offsetMinutes ?? 0) % 60) + 60) % 60;
}

/**
 * The hour-of-week heatmap of the 503 share or of p95, folded in the shown zone (`hours.offsetMinutes`
 * east of UTC).
 */
export function heatmap(hours, metric, nowMs) {
  const minutes = pastTheHour(hours);
  const values = hours.cells.map((c) => (metric === 'p95' ? c.p95Ms : c.overloadRate));
  const max = Math.max(0, ...values.filter((v) => v !== null));
  const label = (v) => (metric === 'p95' ? latency(v) : share(v));
  const zone = zoneLabel(nowMs);
  const names = weekdays();
  const rows = names.map((name, d) =>
    h(
      'tr',
      {},
      h('th', { scope: 'row' }, name),
      Array.from({ length: 24 }, (_, hour) => {
        const v = values[d * 24 + hour];
        // A square-root scale: small shares (the quiet hours this map is for) still differ from nothing at all.
        const level =
          v === null
            ? 'nodata'
            : String(max > 0 && v > 0 ? Math.min(4, 1 + Math.floor(Math.sqrt(v / max) * 3.999)) : 0);
        const text = t('dash.heat.cell', {
          day: name,
          time: clockOf(hour, minutes),
          zone,
          value: v === null ? t('dash.heat.noData') : label(v),
        });
        return h('td', { class: `heat l${level}`, title: text }, h('span', { class: 'sr-only' }, text));
      }),
    ),
  );
  const head = h(
    'tr',
    {},
    h('td', {}),
    Array.from({ length: 24 }, (_, hour) => h('th', { scope: 'col' }, hour % 3 === 0 ? hourOfDay(hour, minutes) : '')),
  );
  return h(
    'div',
    { class: 'heatmap-wrap' },
    h(
      'table',
      { class: 'heatmap', 'aria-label': t('dash.heat.label', { metric: metricName(metric), zone }) },
      h('thead', {}, head),
      h('tbody', {}, rows),
    ),
  );
}

export function quietSentence(hours, nowMs) {
  if (!hours.quietest) return h('p', { class: 'quietest' }, t('dash.quiet.none'));
  const q = hours.quietest;
  const strong = h(
    'strong',
    {},
    t('dash.quiet.window', {
      window: weekWindow(q.start, q.hours, pastTheHour(hours)),
      zone: zoneLabel(nowMs),
      share: share(q.overloadRate),
    }),
  );
  const days = Math.round((Date.parse(hours.to) - Date.parse(hours.from)) / 86_400_000);
  return h(
    'p',
    { class: 'quietest', 'data-start': q.start },
    tNodes('dash.quiet.sentence', { window: strong, count: q.samples, days }),
  );
}

/**
 * The seed's table of busy UTC hours beside what we measured (`hours` folded in UTC), its hours
 * shown in the viewer's zone when that is not UTC: 12–18 UTC reads 21–03 in Seoul.
 */
export function folkTable(hours, offsetMinutes, nowMs) {
  const zone = zoneLabel(nowMs);
  const local = (utcHour, end = false) => {
    const minutes = (((utcHour * 60 + offsetMinutes) % 1440) + 1440) % 1440;
    // A block that ends at midnight ends at 24, as the folk table has it.
    return end && minutes === 0 ? '24' : hourOfDay(Math.floor(minutes / 60), minutes % 60);
  };
  const rank = (r) =>
    r === null
      ? '–'
      : r === 1
        ? t('dash.folk.busiest')
        : r === 4
          ? t('dash.folk.quietest')
          : t('dash.folk.rankN', { rank: r });
  return h(
    'table',
    { class: 'folk', 'data-offset': offsetMinutes },
    h('caption', {}, offsetMinutes === 0 ? t('dash.folk.caption') : t('dash.folk.captionZone', { zone })),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        [t('dash.folk.hours', { zone }), t('dash.folk.says'), t('dash.folk.measured'), t('dash.folk.rank')].map(
          (text) => h('th', { scope: 'col' }, text),
        ),
      ),
    ),
    h(
      'tbody',
      {},
      hours.blocks.map((b) =>
        h(
          'tr',
          {},
          h('td', {}, t('dash.folk.range', { from: local(b.from), to: local(b.to, true) })),
          h('td', {}, word(FOLK_KEYS, b.folk)),
          h('td', {}, share(b.overloadRate)),
          h('td', {}, rank(b.rank)),
        ),
      ),
    ),
  );
}

export function incidentTable(incidents, nowMs, withTarget) {
  if (incidents.length === 0) return h('p', { class: 'muted' }, t('dash.incidents.none'));
  const heads = [
    'dash.incidents.started',
    'dash.incidents.duration',
    'dash.incidents.worst',
    'dash.incidents.cause',
    'dash.incidents.acknowledged',
  ];
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'incidents' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          withTarget ? h('th', { scope: 'col' }, t('dash.incidents.target')) : null,
          heads.map((key) => h('th', { scope: 'col' }, t(key))),
        ),
      ),
      h(
        'tbody',
        {},
        incidents.map((i) =>
          h(
            'tr',
            {},
            withTarget
              ? h(
                  'td',
                  {},
                  h(
                    'a',
                    { href: `/targets/${encodeURIComponent(i.target)}`, 'data-focus-key': `incident:${i.id}` },
                    i.target,
                  ),
                )
              : null,
            h('td', {}, when(i.startedAt, nowMs)),
            h(
              'td',
              {},
              i.endedAt
                ? duration(i.durationSeconds)
                : t('dash.incidents.ongoing', { lasted: duration(i.durationSeconds) }),
            ),
            h('td', {}, badge(i.worstState)),
            h('td', {}, causeText(i.cause)),
            h('td', {}, ackText(i.official)),
          ),
        ),
      ),
    ),
  );
}

function causeText(cause) {
  switch (cause.kind) {
    case 'overload':
      return t('dash.cause.overload', { share: share(cause.share) });
    case 'rate_limited':
      return t('dash.cause.rateLimited', { share: share(cause.share) });
    case 'auth':
      return t('dash.cause.auth', { status: String(cause.httpStatus ?? '?') });
    case 'config':
      return t('dash.cause.config', { status: String(cause.httpStatus ?? '?') });
    case 'failing':
      return t('dash.cause.failing', { dominant: word(OUTCOME_KEYS, cause.dominant) });
    case 'errors':
      return t('dash.cause.errors', { share: share(cause.share) });
    case 'slow':
      return t('dash.cause.slow', { p50: latency(cause.p50Ms), baseline: latency(cause.baselineMs) });
    default:
      return '–';
  }
}

function ackText(official) {
  if (!official) return t('dash.ack.noSource');
  if (official.acknowledgedAt === null)
    return official.delayMinutes === null ? t('dash.ack.notPosted') : t('dash.ack.never');
  const d = official.delayMinutes;
  const text = d <= 0 ? t('dash.ack.before') : t('dash.ack.after', { delay: duration(d * 60) });
  return outLink(official.incidentUrl, text, `ack:${official.source}:${official.acknowledgedAt}`);
}

export function alertTable(notifications, nowMs) {
  if (notifications.length === 0) return h('p', { class: 'muted' }, t('dash.alerts.none'));
  const heads = [
    'dash.alerts.when',
    'dash.alerts.target',
    'dash.alerts.alert',
    'dash.alerts.channel',
    'dash.alerts.delivery',
  ];
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'alerts' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          heads.map((key) => h('th', { scope: 'col' }, t(key))),
        ),
      ),
      h(
        'tbody',
        {},
        notifications.map((n) =>
          h(
            'tr',
            {},
            h('td', {}, when(n.createdAt, nowMs)),
            h('td', {}, n.target),
            // A grouped mail's subject names all its alerts: the row's own headline comes first.
            h(
              'td',
              {},
              n.headline,
              n.grouped
                ? h('span', { class: 'muted subject' }, ' ', t('dash.alerts.subject', { subject: n.subject }))
                : null,
            ),
            h('td', {}, word(CHANNEL_KEYS, n.channel)),
            h(
              'td',
              { class: `delivery ${n.status}` },
              dotted([
                n.attempts > 1
                  ? t('dash.alerts.attempts', { status: word(DELIVERY_KEYS, n.status), count: n.attempts })
                  : word(DELIVERY_KEYS, n.status),
                n.lastError && n.status !== 'delivered' ? n.lastError : null,
              ]),
            ),
          ),
        ),
      ),
    ),
  );
}

/** How the target is probed now, and what it costs: the interval in force, the budget, today and the week. */
export function probingLine(probing, spend, nowMs) {
  if (!probing) return null;
  const skipped = probing.skippedToday.reports;
  const today =
    skipped > 0
      ? t('dash.probing.todaySkipped', { spent: usd(probing.spentTodayUsd), count: probing.probesToday, skipped })
      : t('dash.probing.today', { spent: usd(probing.spentTodayUsd), count: probing.probesToday });
  const week = spend
    ? spend.days.length === 1
      ? t('dash.probing.weekToday', { total: usd(spend.totalUsd) })
      : t('dash.probing.week', { total: usd(spend.totalUsd), days: spend.days.length })
    : null;
  const nextUtcMidnight = new Date((Math.floor(nowMs / 86_400_000) + 1) * 86_400_000).toISOString();
  return h(
    'p',
    { class: 'muted probing' },
    probing.budgetExhausted
      ? [h('strong', {}, t('dash.probing.exhausted', { until: when(nextUtcMidnight, nowMs) })), ' ']
      : null,
    dotted([
      t('dash.probing.every', { every: duration(probing.everySeconds) }),
      probing.budgetPerDayUsd === null
        ? t('dash.probing.noBudget')
        : t('dash.probing.budget', { amount: usd(probing.budgetPerDayUsd) }),
      today,
      week,
    ]).join(''),
  );
}
