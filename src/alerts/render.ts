import { parseDuration } from '../config/duration.js';
import type { AlertDraft, Figures } from '../domain/alert.js';
import type { HealthState } from '../domain/health.js';
import { message } from '../domain/message.js';
import type { IncidentStage, OfficialSummary } from '../domain/official.js';
import { messages, OFFICIAL_KEYS, OUTCOME_KEYS, type Language, type Translator } from '../messages.js';

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
  /** alerts.language: the language of subject and bodies (default English). */
  language?: Language;
}

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

const MAX_SUBJECT = 200;

/** The catalog's words for what a mail names: states (lower and upper case), kinds and stages (outcome classes and official statuses: messages.ts). */
const STATE_WORDS: Record<HealthState, string> = {
  healthy: 'state.healthy',
  degraded: 'state.degraded',
  overloaded: 'state.overloaded',
  down: 'state.down',
  unknown: 'state.unknown',
};
const STATE_CAPS: Record<HealthState, string> = {
  healthy: 'STATE.healthy',
  degraded: 'STATE.degraded',
  overloaded: 'STATE.overloaded',
  down: 'STATE.down',
  unknown: 'STATE.unknown',
};
const STAGE_WORDS: Record<IncidentStage, string> = {
  investigating: 'stage.investigating',
  identified: 'stage.identified',
  monitoring: 'stage.monitoring',
  resolved: 'stage.resolved',
};
const KIND_WORDS: Record<'overloaded' | 'down' | 'degraded' | 'recovered' | 'flapping', string> = {
  overloaded: 'mail.kind.overloaded',
  down: 'mail.kind.down',
  degraded: 'mail.kind.degraded',
  recovered: 'mail.kind.recovered',
  flapping: 'mail.kind.flapping',
};

/** Pure: one mail for a group of notifications (one or several targets), in the context's language. */
export function renderMail(notices: readonly Notice[], context: RenderContext): RenderedMail {
  const m = mailWords(context);
  const prefix = subjectPrefix(context);
  const subject =
    notices.length === 1 ? `${prefix} ${headlineIn(m, notices[0]!.draft)}` : groupSubject(m, prefix, notices);
  const sections = notices.map((n) => section(m, n, context));
  const from = context.region ? m.tr.t('mail.sentFrom', { region: context.region }) : m.tr.t('mail.sent');
  const footer = context.demo ? m.tr.t('mail.demoFooter', { sent: from }) : from;
  const text = `${[...sections.map(plainSection), footer].join('\n\n')}\n`;
  const html = [
    `<!doctype html><html lang="${m.tr.language}"><body style="font-family: sans-serif">`,
    ...sections.map(
      (s) =>
        `<h3>${escapeHtml(s.title)}</h3><table cellpadding="4">${s.rows.map(([k, v]) => `<tr><th align="left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>` +
        (s.link ? `<p><a href="${escapeHtml(s.linkUrl!)}">${escapeHtml(s.linkUrl!)}</a></p>` : ''),
    ),
    `<p style="color:#666">${escapeHtml(footer)}</p>`,
    '</body></html>',
  ].join('\n');
  return { subject, text, html };
}

/** "[modelpulse]", "[modelpulse DEMO europe-west4]": what every subject starts with. */
export function subjectPrefix(context: Pick<RenderContext, 'demo' | 'region' | 'language'>): string {
  const tags = [
    'modelpulse',
    context.demo ? messages(context.language ?? 'en').t('mail.demoTag') : null,
    context.region ?? null,
  ];
  return `[${tags.filter(Boolean).join(' ')}]`;
}

/** The test mail of `npm run alerts:test`, in the configured language. */
export function renderTestMail(
  context: RenderContext,
  about: { origin: string; targets: readonly string[] },
): { subject: string; text: string } {
  const { t } = messages(context.language ?? 'en');
  const text = [
    t('mail.test.body'),
    '',
    t('mail.test.config', { origin: about.origin }),
    t('mail.test.targets', { targets: about.targets.length ? about.targets.join(', ') : t('mail.test.demoTargets') }),
    context.dashboardUrl ? t('mail.test.dashboard', { url: context.dashboardUrl }) : '',
  ].join('\n');
  return { subject: t('mail.test.subject', { prefix: subjectPrefix(context) }), text };
}

/** A translator and the zone for times, as one mail uses them. */
interface MailWords {
  tr: Translator;
  zone: string | null;
}

function mailWords(context: Pick<RenderContext, 'language' | 'timeZone'>): MailWords {
  return { tr: messages(context.language ?? 'en'), zone: context.timeZone ?? null };
}

/** "[modelpulse] 3 alerts: a OVERLOADED, b DOWN, c RECOVERED"; past the length limit, "and N more" (never cut mid-word). */
function groupSubject(m: MailWords, prefix: string, notices: readonly Notice[]): string {
  const parts = notices.map((n) =>
    m.tr.t('mail.groupPart', { target: n.draft.targetId, kind: kindWord(m.tr, n.draft) }),
  );
  for (let shown = parts.length; shown > 0; shown--) {
    const rest = parts.length - shown;
    const list = parts.slice(0, shown).join(', ');
    const subject =
      rest > 0
        ? m.tr.t('mail.groupMore', { prefix, count: parts.length, list, rest })
        : m.tr.t('mail.group', { prefix, count: parts.length, list });
    if (subject.length <= MAX_SUBJECT) return subject;
  }
  return m.tr.t('mail.groupTargets', { prefix, count: parts.length });
}

function kindWord(tr: Translator, draft: AlertDraft): string {
  const STATUS = tr.t(STATE_CAPS[draft.status]);
  const source = draft.officialIncident?.sourceId ?? '?';
  switch (draft.kind) {
    case 'reminder':
      return tr.t('mail.kind.reminder', { STATUS });
    case 'flapping_ended':
      return tr.t('mail.kind.flappingEnded', { STATUS });
    case 'green_while_failing':
      return tr.t('mail.kind.greenWhileFailing', { STATUS });
    case 'official_incident':
      return tr.t('mail.kind.officialIncident', { source });
    case 'official_resolved':
      return tr.t('mail.kind.officialResolved', { source });
    case 'budget_exhausted':
      return tr.t('mail.kind.budgetExhausted');
    default:
      return tr.t(KIND_WORDS[draft.kind]);
  }
}

/** The few words a subject line carries for one notification (in English unless a language is given). */
export function headline(draft: AlertDraft, context: Pick<RenderContext, 'language' | 'timeZone'> = {}): string {
  return headlineIn(mailWords(context), draft);
}

function headlineIn(m: MailWords, draft: AlertDraft): string {
  const { tr } = m;
  const target = draft.targetId;
  const STATUS = tr.t(STATE_CAPS[draft.status]);
  const episode = draft.episode;
  const lasted = tr.duration((episode?.durationMs ?? 0) / 1000);
  switch (draft.kind) {
    case 'overloaded':
      return tr.t('mail.headline.overloaded', { target, cause: causeWords(tr, draft) });
    case 'down':
      return tr.t('mail.headline.down', { target, cause: causeWords(tr, draft) });
    case 'degraded':
      return tr.t('mail.headline.degraded', { target, cause: causeWords(tr, draft) });
    case 'reminder':
      return tr.t('mail.headline.reminder', { target, STATUS, lasted, cause: causeWords(tr, draft) });
    case 'recovered':
      return tr.t('mail.headline.recovered', {
        target,
        lasted,
        WORST: episode ? tr.t(STATE_CAPS[episode.worst.status]) : '?',
        failing: { percent: failing(episode?.worst.figures) },
      });
    case 'flapping':
      return tr.t('mail.headline.flapping', { target });
    case 'flapping_ended':
      return tr.t('mail.headline.flappingEnded', { target, STATUS, lasted, count: episode?.changes ?? 0 });
    case 'green_while_failing':
      return tr.t('mail.headline.greenWhileFailing', {
        target,
        STATUS,
        lasted: tr.duration((draft.at - (draft.discrepancy?.holdingSince ?? draft.since)) / 1000),
      });
    case 'official_incident':
    case 'official_resolved': {
      const note = draft.officialIncident;
      const params = {
        source: note?.sourceId ?? '?',
        title: note?.title ?? '?',
        impact: tr.t(OFFICIAL_KEYS[note?.impact ?? 'unknown']),
      };
      if (draft.kind === 'official_incident')
        return tr.t(
          note?.afterTheFact ? 'mail.headline.officialIncidentLate' : 'mail.headline.officialIncident',
          params,
        );
      return tr.t(note?.afterTheFact ? 'mail.headline.officialResolvedLate' : 'mail.headline.officialResolved', params);
    }
    case 'budget_exhausted':
      return tr.t('mail.headline.budgetExhausted', { target, ...budgetWords(m, draft) });
  }
}

function budgetWords(m: MailWords, draft: AlertDraft): { spent: string; perDay: string; until: string } {
  const usd = new Intl.NumberFormat(m.tr.language, {
    style: 'currency',
    currency: 'USD',
    minimumFractionDigits: 2,
    maximumFractionDigits: 2,
  });
  return {
    spent: usd.format(draft.budget?.spentUsd ?? 0),
    perDay: usd.format(draft.budget?.perDayUsd ?? 0),
    until: time(draft.budget?.resumesAt ?? draft.at, m.zone),
  };
}

/** The mail's "official status" line: what the target's status pages said at that moment. */
export function officialLine(
  official: OfficialSummary | null | undefined,
  context: Pick<RenderContext, 'language' | 'timeZone'> = {},
): string {
  const { tr, zone } = mailWords(context);
  if (official === undefined) return tr.t('mail.official.notRecorded');
  if (official === null) return tr.t('mail.official.none');
  const status = tr.t(OFFICIAL_KEYS[official.status]);
  const parts = [
    tr.t(official.stale ? 'mail.official.statusStale' : 'mail.official.status', { status, source: official.sourceId }),
  ];
  if (official.incident)
    parts.push(
      tr.t('mail.official.incident', {
        title: official.incident.title,
        since: time(official.incident.startedAt, zone),
      }),
    );
  if (official.greenWhileFailingSince !== null)
    parts.push(tr.t('mail.official.greenWhileFailing', { since: time(official.greenWhileFailingSince, zone) }));
  else if (official.agrees === false) parts.push(tr.t('mail.official.disagrees'));
  return parts.join(' — ');
}

function causeWords(tr: Translator, draft: AlertDraft): string {
  const cause = draft.cause;
  switch (cause.kind) {
    case 'auth':
      return tr.t('mail.cause.auth', { status: String(cause.httpStatus ?? '?') });
    case 'config':
      return tr.t('mail.cause.config', { status: String(cause.httpStatus ?? '?') });
    case 'failing':
      return tr.t('mail.cause.failing', {
        count: cause.run,
        dominant: { message: message(OUTCOME_KEYS[cause.dominant]) },
      });
    case 'errors':
      return tr.t('mail.cause.errors', { share: { percent: cause.share } });
    case 'slow':
      return tr.t('mail.cause.slow', { p50: { ms: cause.p50Ms }, baseline: { ms: cause.baselineMs } });
    case 'overload':
      return tr.t('mail.cause.overload', { share: { percent: cause.share } });
    case 'rate_limited':
      return tr.t('mail.cause.rateLimited', { share: { percent: cause.share } });
    case 'none':
      return tr.t(STATE_WORDS[draft.status]);
  }
}

interface Section {
  title: string;
  rows: Array<[string, string]>;
  link: string | null;
  linkUrl: string | null;
}

function plainSection(s: Section): string {
  const width = Math.max(...s.rows.map(([k]) => columns(k))) + 3;
  return [
    s.title,
    '',
    ...s.rows.map(([k, v]) => `  ${k}:${' '.repeat(width - columns(k) - 1)}${v}`),
    ...(s.link ? ['', s.link] : []),
  ].join('\n');
}

/** How many columns a label takes in a fixed-width font: Hangul and other wide letters take two. */
function columns(text: string): number {
  return [...text].reduce(
    (sum, c) =>
      sum +
      (/[\u1100-\u115F\u2E80-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6]/.test(c) ? 2 : 1),
    0,
  );
}

function section(m: MailWords, notice: Notice, context: RenderContext): Section {
  const { tr, zone } = m;
  const { draft, target } = notice;
  const who =
    target.name === target.id
      ? tr.t('mail.who', { target: target.id, model: target.model })
      : tr.t('mail.whoNamed', { target: target.id, name: target.name, model: target.model });
  const figures = draft.episode && draft.kind === 'recovered' ? draft.episode.worst.figures : draft.figures;
  const label =
    draft.kind === 'recovered'
      ? tr.t('mail.row.atWorst')
      : tr.t('mail.row.last', { window: { duration: (parseDuration(figures.window ?? '5m') ?? 300_000) / 1000 } });
  const advice = draft.advice;
  const reason = advice.reasonMessage ? tr.t(advice.reasonMessage.key, advice.reasonMessage.params) : advice.reason;
  const none = tr.t('value.none');
  const rows: Array<[string, string]> = [
    [
      tr.t('mail.row.overload', { label }),
      tr.t('mail.value.overload', { share: { percent: figures.overloadRate }, count: figures.samples }),
    ],
    ...(figures.rateLimitedRate
      ? ([[tr.t('mail.row.rateLimited', { label }), tr.percent(figures.rateLimitedRate, 0, none)]] as Array<
          [string, string]
        >)
      : []),
    [tr.t('mail.row.success', { label }), tr.percent(figures.successRate, 0, none)],
    [tr.t('mail.row.p95', { label }), figures.p95Ms === null ? none : tr.seconds(figures.p95Ms)],
    [
      tr.t('mail.row.advice'),
      advice.send
        ? tr.t('mail.advice.send', { reason })
        : advice.retryAfterSeconds === null
          ? tr.t('mail.advice.hold', { reason })
          : tr.t('mail.advice.holdRetry', { reason, wait: { duration: advice.retryAfterSeconds } }),
    ],
  ];
  if (advice.alternative) rows.push([tr.t('mail.row.alternative'), advice.alternative]);
  if (draft.episode && draft.kind !== 'recovered')
    rows.push([tr.t('mail.row.episodeStarted'), time(draft.episode.startedAt, zone)]);
  const note = draft.officialIncident;
  if (note) {
    rows.push([
      tr.t('mail.row.officialIncident'),
      tr.t('mail.value.officialIncident', {
        title: note.title,
        impact: tr.t(OFFICIAL_KEYS[note.impact]),
        stage: tr.t(STAGE_WORDS[note.stage]),
      }),
    ]);
    rows.push([tr.t('mail.row.providerBegan'), time(note.startedAt, zone)]);
    if (note.postedAt !== null) rows.push([tr.t('mail.row.providerPosted'), time(note.postedAt, zone)]);
    if (note.endedAt !== null) rows.push([tr.t('mail.row.providerEnded'), time(note.endedAt, zone)]);
    if (note.url) rows.push([tr.t('mail.row.incidentPage'), note.url]);
    rows.push([tr.t('mail.row.speaksFor'), note.targets.join(', ')]);
  }
  rows.push([tr.t('mail.row.official'), officialLine(draft.official, context)]);
  const linkUrl = context.dashboardUrl ? `${context.dashboardUrl}/health/${encodeURIComponent(target.id)}` : null;
  return {
    title: sectionTitle(m, draft, who),
    rows,
    link: linkUrl ? tr.t('mail.liveAdvice', { url: linkUrl }) : null,
    linkUrl,
  };
}

function sectionTitle(m: MailWords, draft: AlertDraft, who: string): string {
  const { tr, zone } = m;
  const episode = draft.episode;
  const STATUS = tr.t(STATE_CAPS[draft.status]);
  const lasted = tr.duration((episode?.durationMs ?? 0) / 1000);
  switch (draft.kind) {
    case 'recovered':
      return tr.t('mail.title.recovered', {
        who,
        WORST: episode ? tr.t(STATE_CAPS[episode.worst.status]) : '?',
        lasted,
        from: time(episode?.startedAt ?? draft.at, zone),
        to: time(draft.since, zone),
      });
    case 'flapping':
      return tr.t('mail.title.flapping', { who });
    case 'flapping_ended':
      return tr.t('mail.title.flappingEnded', { who, STATUS, lasted, count: episode?.changes ?? 0 });
    case 'green_while_failing': {
      const sources = draft.discrepancy?.sources ?? [];
      return tr.t('mail.title.greenWhileFailing', {
        who,
        STATUS,
        since: time(draft.discrepancy?.holdingSince ?? draft.since, zone),
        sources: sources.join(', ') || '?',
        count: sources.length,
      });
    }
    case 'budget_exhausted':
      return tr.t('mail.title.budgetExhausted', { who, ...budgetWords(m, draft) });
    default:
      return draft.officialIncident
        ? officialTitle(tr, draft)
        : tr.t('mail.title.state', { who, STATUS, since: time(draft.since, zone) });
  }
}

function officialTitle(tr: Translator, draft: AlertDraft): string {
  const note = draft.officialIncident!;
  const params = {
    source: note.sourceId,
    title: note.title,
    target: draft.targetId,
    impact: tr.t(OFFICIAL_KEYS[note.impact]),
  };
  if (draft.kind === 'official_resolved')
    return tr.t(note.afterTheFact ? 'mail.title.officialResolvedLate' : 'mail.title.officialResolved', params);
  return tr.t('mail.title.officialIncident', params);
}

function failing(figures: Figures | undefined): number | null {
  return figures?.successRate === null || figures === undefined ? null : 1 - figures.successRate;
}

/** "2026-11-25 13:05:00 UTC", and with a zone "2026-11-25 13:05:00 UTC (2026-11-25 22:05 Asia/Seoul)". */
function time(ms: number, zone: string | null = null): string {
  const utc = new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
  if (zone === null) return utc;
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(ms)
      .map((p) => [p.type, p.value]),
  );
  return `${utc} (${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} ${zone})`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
