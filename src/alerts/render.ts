import { percent, seconds } from '../health/words.js';
import type { AlertDraft, Figures } from '../domain/alert.js';
import type { OfficialSummary } from '../domain/official.js';

export interface NoticeTarget {
  id: string;
  name: string;
  model: string;
}

export interface Notice {
  id: number;
  draft: AlertDraft;
  target: NoticeTarget;
}

export interface RenderContext {
  /** Base URL of the service as people reach it; links are left out without it. */
  dashboardUrl: string | null;
  demo: boolean;
  /** server.region: named in the subject and the footer, so mails from several regions tell apart. */
  region?: string | null;
  /** alerts.timeZone: times are given in UTC and in this IANA zone too. */
  timeZone?: string | null;
}

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

const MAX_SUBJECT = 200;

/** Pure: one mail for a group of notifications (one or several targets). */
export function renderMail(notices: readonly Notice[], context: RenderContext): RenderedMail {
  const prefix = `[${['modelpulse', context.demo ? 'DEMO' : null, context.region ?? null].filter(Boolean).join(' ')}]`;
  const subject = notices.length === 1 ? `${prefix} ${headline(notices[0]!.draft, context.timeZone ?? null)}` : groupSubject(prefix, notices);
  const sections = notices.map((n) => section(n, context));
  const from = context.region ? `Sent by modelpulse in ${context.region}.` : 'Sent by modelpulse.';
  const footer = context.demo ? `DEMO MODE: these targets are a built-in simulator, not real models. ${from}` : from;
  const text = [...sections.map(plainSection), footer].join('\n\n') + '\n';
  const html = [
    '<!doctype html><html><body style="font-family: sans-serif">',
    ...sections.map(
      (s) =>
        `<h3>${escape(s.title)}</h3><table cellpadding="4">${s.rows.map(([k, v]) => `<tr><th align="left">${escape(k)}</th><td>${escape(v)}</td></tr>`).join('')}</table>` +
        (s.link ? `<p><a href="${escape(s.linkUrl!)}">${escape(s.linkUrl!)}</a></p>` : ''),
    ),
    `<p style="color:#666">${escape(footer)}</p>`,
    '</body></html>',
  ].join('\n');
  return { subject, text, html };
}

/** "[modelpulse] 3 alerts: a OVERLOADED, b DOWN, c RECOVERED"; past the length limit, "and N more" (never cut mid-word). */
function groupSubject(prefix: string, notices: readonly Notice[]): string {
  const start = `${prefix} ${notices.length} alerts: `;
  const parts = notices.map((n) => `${n.draft.targetId} ${kindWord(n.draft)}`);
  for (let shown = parts.length; shown > 0; shown--) {
    const rest = parts.length - shown;
    const subject = `${start}${parts.slice(0, shown).join(', ')}${rest > 0 ? `, and ${rest} more` : ''}`;
    if (subject.length <= MAX_SUBJECT) return subject;
  }
  return `${start}${parts.length} targets changed`;
}

function kindWord(draft: AlertDraft): string {
  switch (draft.kind) {
    case 'reminder':
      return `STILL ${draft.status.toUpperCase()}`;
    case 'flapping_ended':
      return `settled ${draft.status.toUpperCase()}`;
    case 'green_while_failing':
      return `${draft.status.toUpperCase()} under a green status page`;
    case 'official_incident':
      return `official incident on ${draft.officialIncident?.sourceId ?? '?'}`;
    case 'official_resolved':
      return `official incident resolved on ${draft.officialIncident?.sourceId ?? '?'}`;
    case 'budget_exhausted':
      return 'probe budget spent';
    default:
      return draft.kind.toUpperCase();
  }
}

/** The few words a subject line carries for one notification. */
export function headline(draft: AlertDraft, zone: string | null = null): string {
  const id = draft.targetId;
  const status = draft.status.toUpperCase();
  const episode = draft.episode;
  switch (draft.kind) {
    case 'overloaded':
      return `${id} OVERLOADED — ${causeWords(draft)}`;
    case 'down':
      return `${id} DOWN — ${causeWords(draft)}`;
    case 'degraded':
      return `${id} DEGRADED — ${causeWords(draft)}`;
    case 'reminder':
      return `${id} STILL ${status} after ${duration(episode?.durationMs ?? 0)} — ${causeWords(draft)}`;
    case 'recovered':
      return `${id} RECOVERED after ${duration(episode?.durationMs ?? 0)} (worst: ${episode?.worst.status.toUpperCase() ?? '?'}, ${percent(failing(episode?.worst.figures))} failing)`;
    case 'flapping':
      return `${id} FLAPPING — changing state repeatedly; per-change mails held until it settles`;
    case 'flapping_ended':
      return `${id} settled ${status} after flapping for ${duration(episode?.durationMs ?? 0)} (${episode?.changes ?? 0} changes)`;
    case 'green_while_failing':
      return `${id} ${status} for ${duration(draft.at - (draft.discrepancy?.holdingSince ?? draft.since))} while its status page says operational`;
    case 'official_incident':
    case 'official_resolved': {
      const note = draft.officialIncident;
      const what = draft.kind === 'official_incident' ? `official incident (${words(note?.impact ?? 'unknown')})` : 'official incident resolved';
      return `${note?.sourceId ?? '?'}: ${what}: "${note?.title ?? '?'}"${note?.afterTheFact ? ' (posted after the fact)' : ''}`;
    }
    case 'budget_exhausted':
      return `${id} probe budget spent: $${(draft.budget?.spentUsd ?? 0).toFixed(2)} of $${(draft.budget?.perDayUsd ?? 0).toFixed(2)} today; no probes until ${time(draft.budget?.resumesAt ?? draft.at, zone)}`;
  }
}

/** The mail's "official status" line: what the target's status pages said at that moment. */
export function officialLine(official: OfficialSummary | null | undefined, zone: string | null = null): string {
  if (official === undefined) return 'not recorded';
  if (official === null) return 'no status page is mapped to this target';
  const source = `${official.sourceId}${official.stale ? ', stale' : ''}`;
  const incident = official.incident ? ` — "${official.incident.title}" since ${time(official.incident.startedAt, zone)}` : '';
  const verdict =
    official.greenWhileFailingSince !== null
      ? ` — status page green while failing since ${time(official.greenWhileFailingSince, zone)}`
      : official.agrees === false
        ? ' — disagrees with what modelpulse sees'
        : '';
  return `${words(official.status)} (${source})${incident}${verdict}`;
}

function words(status: string): string {
  return status.replace(/_/g, ' ');
}

function causeWords(draft: AlertDraft): string {
  const cause = draft.cause;
  switch (cause.kind) {
    case 'auth':
      return `API key rejected (HTTP ${cause.httpStatus ?? '?'})`;
    case 'config':
      return `request refused as misconfigured (HTTP ${cause.httpStatus ?? '?'})`;
    case 'failing':
      return `last ${cause.run} calls failed, mostly ${cause.dominant.replace('_', ' ')}`;
    case 'errors':
      return `about ${percent(cause.share)} of calls failing`;
    case 'slow':
      return `median ${seconds(cause.p50Ms)} (usual ${seconds(cause.baselineMs)})`;
    case 'overload':
      return `${percent(cause.share)} of calls answer 503`;
    case 'rate_limited':
      return `rate-limited: ${percent(cause.share)} of calls answer 429`;
    case 'none':
      return draft.status;
  }
}

interface Section {
  title: string;
  rows: Array<[string, string]>;
  link: string | null;
  linkUrl: string | null;
}

function plainSection(s: Section): string {
  const width = Math.max(...s.rows.map(([k]) => k.length)) + 3;
  return [s.title, '', ...s.rows.map(([k, v]) => `  ${`${k}:`.padEnd(width)}${v}`), ...(s.link ? ['', s.link] : [])].join('\n');
}

function section(notice: Notice, context: RenderContext): Section {
  const { draft, target } = notice;
  const zone = context.timeZone ?? null;
  const who = `${target.id} (${target.name === target.id ? target.model : `${target.name}, ${target.model}`})`;
  const episode = draft.episode;
  const title =
    draft.kind === 'recovered'
      ? `${who} has RECOVERED: it was ${episode?.worst.status.toUpperCase()} at worst, for ${duration(episode?.durationMs ?? 0)} (${time(episode?.startedAt ?? draft.at, zone)} to ${time(draft.since, zone)}), and has been healthy since.`
      : draft.kind === 'flapping'
        ? `${who} is FLAPPING between states. Per-change mails are held until it settles; one summary will follow.`
        : draft.kind === 'flapping_ended'
          ? `${who} has settled as ${draft.status.toUpperCase()} after flapping for ${duration(episode?.durationMs ?? 0)} with ${episode?.changes ?? 0} state changes.`
          : draft.kind === 'green_while_failing'
            ? `${who} has been ${draft.status.toUpperCase()} since ${time(draft.discrepancy?.holdingSince ?? draft.since, zone)} while ${(draft.discrepancy?.sources.length ?? 0) > 1 ? 'its status pages' : 'its status page'} (${draft.discrepancy?.sources.join(', ') ?? '?'}) ${(draft.discrepancy?.sources.length ?? 0) > 1 ? 'say' : 'says'} operational.`
            : draft.kind === 'budget_exhausted'
              ? `${who} has spent its probe budget for today ($${(draft.budget?.spentUsd ?? 0).toFixed(2)} of $${(draft.budget?.perDayUsd ?? 0).toFixed(2)}). Canary probes stop until ${time(draft.budget?.resumesAt ?? draft.at, zone)}; until then its health comes from client reports only, and turns unknown without them. Raise probe.budgetPerDay or lengthen probe.every to probe all day.`
              : draft.officialIncident
              ? officialTitle(draft)
              : `${who} is ${draft.status.toUpperCase()} since ${time(draft.since, zone)}.`;
  const figures = episode && draft.kind === 'recovered' ? episode.worst.figures : draft.figures;
  const label = draft.kind === 'recovered' ? 'at its worst' : `last ${figures.window ?? '5m'}`;
  const advice = draft.advice;
  const rows: Array<[string, string]> = [
    [`503 share (${label})`, `${percent(figures.overloadRate)} of ${figures.samples} calls`],
    ...(figures.rateLimitedRate ? ([[`429 share (${label})`, percent(figures.rateLimitedRate)]] as Array<[string, string]>) : []),
    [`success rate (${label})`, percent(figures.successRate)],
    [`p95 latency (${label})`, figures.p95Ms === null ? 'n/a' : seconds(figures.p95Ms)],
    ['/health advises', advice.send ? `send — ${advice.reason}` : `hold${advice.retryAfterSeconds === null ? '' : `, retry after ${advice.retryAfterSeconds} s`} — ${advice.reason}`],
  ];
  if (advice.alternative) rows.push(['alternative', advice.alternative]);
  if (episode && draft.kind !== 'recovered') rows.push(['episode started', time(episode.startedAt, zone)]);
  const note = draft.officialIncident;
  if (note) {
    rows.push(['official incident', `${note.title} (${words(note.impact)}, ${note.stage})`]);
    rows.push(['provider says it began', time(note.startedAt, zone)]);
    if (note.postedAt !== null) rows.push(['provider posted it', time(note.postedAt, zone)]);
    if (note.endedAt !== null) rows.push(['provider says it ended', time(note.endedAt, zone)]);
    if (note.url) rows.push(['incident page', note.url]);
    rows.push(['targets it speaks for', note.targets.join(', ')]);
  }
  rows.push(['official status', officialLine(draft.official, zone)]);
  const linkUrl = context.dashboardUrl ? `${context.dashboardUrl}/health/${encodeURIComponent(target.id)}` : null;
  return { title, rows, link: linkUrl ? `Live advice: ${linkUrl}` : null, linkUrl };
}

function officialTitle(draft: AlertDraft): string {
  const note = draft.officialIncident!;
  if (draft.kind === 'official_resolved') {
    return `${note.sourceId} marked "${note.title}" resolved${note.afterTheFact ? ' (first seen already resolved: posted after the fact)' : ''}. Here is how ${draft.targetId} looks now.`;
  }
  return `${note.sourceId} posted an incident: "${note.title}" (${words(note.impact)}). Here is how ${draft.targetId} looks now.`;
}

function failing(figures: Figures | undefined): number | null {
  return figures?.successRate === null || figures === undefined ? null : 1 - figures.successRate;
}

export function duration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
}

/** "2026-11-25 13:05:00 UTC", and with a zone "2026-11-25 13:05:00 UTC (2026-11-25 22:05 Asia/Seoul)". */
function time(ms: number, zone: string | null = null): string {
  const utc = new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  if (zone === null) return utc;
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(ms).map((p) => [p.type, p.value]),
  );
  return `${utc} (${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} ${zone})`;
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
