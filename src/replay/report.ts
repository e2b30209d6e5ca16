import { formatDuration } from '../config/duration.js';
import type { Cause } from '../domain/health.js';
import { messages } from '../messages.js';
import type { Delays } from './delays.js';
import type { ReplayReport, RunReport } from './replay.js';
import type { AdviceChange, IncidentSpan } from './simulation.js';

/** A share as a whole percentage, "n/a" when unknown: the mails' wording. */
const percent = (share: number | null | undefined) => messages('en').percent(share, 0, 'n/a');

/** The report as people read it: header, then per run the state changes, advice, mails and delays. */
export function formatReport(report: ReplayReport): string {
  const at = timeFormat(report);
  const lines = [...header(report, at)];
  for (const run of report.runs) lines.push('', ...runSection(report, run, at));
  if (report.runs.length === 2) lines.push('', ...comparison(report, report.runs[0]!, report.runs[1]!, at));
  return `${lines.join('\n')}\n`;
}

/** The report for machines: the same content, times in epoch ms with ISO beside the run's bounds, delays in ms. */
export function reportJson(report: ReplayReport): string {
  return `${JSON.stringify({ ...report, startIso: new Date(report.start).toISOString(), endIso: new Date(report.end).toISOString() }, null, 2)}\n`;
}

function header(report: ReplayReport, at: (ms: number) => string): string[] {
  const first = report.runs[0]!;
  const what = report.mode === 'trace' ? `trace ${report.source}` : `stored history in ${report.source}`;
  const targets = first.targets
    .map((t) => `${t.id} (probe every ${formatDuration(t.everyMs)}, timeout ${formatDuration(t.timeoutMs)})`)
    .join(', ');
  const seed = report.seed === null ? '' : `, seed ${report.seed}`;
  const knobs = `${report.mode === 'trace' ? 'built-in defaults' : 'as the service loads them'}${report.overrides.length ? `; --set ${report.overrides.join(' --set ')}` : ''}`;
  const lines = [
    `modelpulse replay — ${what}`,
    `  span:         ${new Date(report.start).toISOString()} → ${new Date(report.end).toISOString()} (${formatDuration(report.end - report.start)})${seed}`,
    `  targets:      ${targets}`,
    `  probe timing: ${report.timing}`,
    `  knobs:        ${knobs}`,
  ];
  for (const note of report.notes) lines.push(`  note:         ${note}`);
  if (report.mode === 'trace') {
    const spans = report.troubles.map(
      (t) => `${at(t.start)} → ${at(t.end)} (${formatDuration(t.end - t.start)}, ${percent(t.share)} failing)`,
    );
    lines.push(`  trouble:      ${spans.length ? spans.join('; ') : 'none (no segment fails 30 % or more)'}`);
  } else {
    lines.push(`  stored:       ${report.storedIncidents.length} incident(s) in the span`);
  }
  return lines;
}

function runSection(report: ReplayReport, run: RunReport, at: (ms: number) => string): string[] {
  const skipped =
    run.skippedOverlaps > 0 ? ` (${run.skippedOverlaps} probes skipped: the one before was still running)` : '';
  const counts = `${run.changes.length} state change(s) after the first verdict, ${run.mails.length} mail(s)`;
  const lines = [
    `== ${run.label}: ${run.probes} outcomes${skipped}, ${counts}; ran in ${(run.elapsedMs / 1000).toFixed(2)} s`,
  ];
  const many = run.targets.length > 1;
  const who = (id: string) => (many ? `${id}: ` : '');
  lines.push('State changes');
  for (const c of run.firstVerdicts) lines.push(`  ${at(c.at)}  ${who(c.targetId)}${c.from} → ${c.to} (first verdict)`);
  if (run.changes.length === 0) lines.push('  none after the first verdict');
  for (const c of run.changes) lines.push(`  ${at(c.at)}  ${who(c.targetId)}${c.from} → ${c.to}${causeText(c.cause)}`);
  lines.push(
    'Advice (/health after each observation: send or hold, retryAfterSeconds; timeoutSeconds over the stretch; --json lists each change)',
  );
  if (run.advice.length === 0) lines.push('  none');
  for (const stretch of adviceStretches(run.advice)) {
    const a = stretch.first;
    const retry = a.retryAfterSeconds === null ? '' : `, retry after ${a.retryAfterSeconds} s`;
    const timeout = stretch.low === stretch.high ? `${stretch.low} s` : `${stretch.low}–${stretch.high} s`;
    lines.push(`  ${at(a.at)}  ${who(a.targetId)}${a.send ? 'send' : 'hold'}${retry}, timeout ${timeout}`);
  }
  lines.push('Mails (as the real renderer writes the subject)');
  if (run.mails.length === 0) lines.push('  none');
  for (const m of run.mails) lines.push(`  ${at(m.sentAt)}  ${m.notices.map((n) => n.kind).join('+')}  "${m.subject}"`);
  lines.push(...(report.mode === 'trace' ? delayTable(run, at) : incidentTable(run, at)));
  return lines;
}

const DELAY_COLUMNS: Array<[keyof Delays, string]> = [
  ['detectMs', 'detect'],
  ['holdMs', 'hold'],
  ['recoverMs', 'recover'],
  ['onsetMailMs', 'onset mail'],
  ['recoveryMailMs', 'recovery mail'],
];

function delayTable(run: RunReport, at: (ms: number) => string): string[] {
  const lines = [
    'Delays (detect, hold, onset mail: from the trouble\'s start; recover, recovery mail: from its end; "—": not before the next trouble or the end)',
  ];
  if (run.delays.length === 0) return [...lines, '  no trouble in the trace: nothing to detect'];
  const rows = run.delays.map((d) => [
    `${at(d.trouble.start)} → ${at(d.trouble.end)}`,
    ...DELAY_COLUMNS.map(([key]) => delay(d.delays[key])),
  ]);
  return [...lines, ...table(['trouble', ...DELAY_COLUMNS.map(([, label]) => label)], rows)];
}

function incidentTable(run: RunReport, at: (ms: number) => string): string[] {
  const lines = ["Incidents: stored (the service's own record) beside this replay's (offsets: replay minus stored)"];
  if (run.incidentMatches.length === 0 && run.newIncidents.length === 0)
    return [...lines, '  none stored, none replayed'];
  const span = (i: IncidentSpan) =>
    `${at(i.startedAt)} → ${i.endedAt === null ? 'open' : at(i.endedAt)} ${i.worstState}`;
  const rows = run.incidentMatches.map((m) => [
    `${m.stored.targetId} ${span(m.stored)}`,
    m.replayed ? span(m.replayed) : 'not replayed',
    delay(m.startOffsetMs),
    delay(m.endOffsetMs),
  ]);
  for (const extra of run.newIncidents) rows.push([`${extra.targetId} (none stored)`, span(extra), '—', '—']);
  return [...lines, ...table(['stored', 'replayed', 'start', 'end'], rows)];
}

function comparison(report: ReplayReport, base: RunReport, tuned: RunReport, at: (ms: number) => string): string[] {
  const lines = [`== compare: as configured → with --set ${report.overrides.join(' --set ')}`];
  const count = (label: string, a: number, b: number) => [label, `${a} → ${b}`];
  lines.push('');
  const holds = (run: RunReport) => run.changes.filter((c) => c.to === 'overloaded' || c.to === 'down').length;
  const rows = [
    count('state changes', base.changes.length, tuned.changes.length),
    count('holds (to overloaded/down)', holds(base), holds(tuned)),
    count('mails', base.mails.length, tuned.mails.length),
    count('incidents', base.incidents.length, tuned.incidents.length),
  ];
  lines.push(...table(['', 'as configured → with --set'], rows));
  if (report.mode === 'trace') {
    const side = base.delays.map((d, i) => {
      const other = tuned.delays[i]!.delays;
      return [
        `${at(d.trouble.start)} → ${at(d.trouble.end)}`,
        ...DELAY_COLUMNS.map(([key]) => `${delay(d.delays[key])} → ${delay(other[key])}`),
      ];
    });
    lines.push('Delays side by side (as configured → with --set)');
    lines.push(
      ...(side.length
        ? table(['trouble', ...DELAY_COLUMNS.map(([, label]) => label)], side)
        : ['  no trouble in the trace']),
    );
  } else {
    const offsets = base.incidentMatches.map((m, i) => {
      const other = tuned.incidentMatches[i]!;
      const side = (a: number | null, b: number | null) => `${delay(a)} → ${delay(b)}`;
      return [
        `${m.stored.targetId} ${at(m.stored.startedAt)}`,
        side(m.startOffsetMs, other.startOffsetMs),
        side(m.endOffsetMs, other.endOffsetMs),
      ];
    });
    lines.push('Stored incidents: replay offsets side by side (as configured → with --set)');
    lines.push(
      ...(offsets.length ? table(['stored incident', 'start', 'end'], offsets) : ['  no stored incidents in the span']),
    );
  }
  return lines;
}

/** Consecutive advice of one target with the same send and retryAfterSeconds, with the range of timeoutSeconds it gave. */
function adviceStretches(advice: readonly AdviceChange[]): Array<{ first: AdviceChange; low: number; high: number }> {
  const stretches: Array<{ first: AdviceChange; low: number; high: number }> = [];
  const open = new Map<string, { first: AdviceChange; low: number; high: number }>();
  for (const a of advice) {
    const current = open.get(a.targetId);
    if (current && current.first.send === a.send && current.first.retryAfterSeconds === a.retryAfterSeconds) {
      current.low = Math.min(current.low, a.timeoutSeconds);
      current.high = Math.max(current.high, a.timeoutSeconds);
      continue;
    }
    const stretch = { first: a, low: a.timeoutSeconds, high: a.timeoutSeconds };
    open.set(a.targetId, stretch);
    stretches.push(stretch);
  }
  return stretches;
}

function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`.trimEnd();
  return [line(head), ...rows.map(line)];
}

/** A delay to the second, signed, as m:ss (h:mm:ss past an hour); "—" when there was none to measure. */
export function delay(ms: number | null): string {
  if (ms === null) return '—';
  const seconds = Math.round(ms / 1_000);
  return `${seconds < 0 ? '-' : '+'}${clock(Math.abs(seconds), false)}`;
}

/** Offsets from the trace's start (its own clock) for a trace; UTC times for stored history. */
function timeFormat(report: ReplayReport): (ms: number) => string {
  if (report.mode === 'stored')
    return (ms) =>
      new Date(ms)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z');
  return (ms) => `+${clock(Math.round((ms - report.start) / 1_000), true)}`;
}

/** Whole seconds as [d ]h:mm:ss, or m:ss under an hour unless `hours`. */
function clock(seconds: number, hours: boolean): string {
  const days = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3_600);
  const m = Math.floor((seconds % 3_600) / 60);
  const s = String(seconds % 60).padStart(2, '0');
  if (days > 0) return `${days}d ${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${s}`;
  if (h > 0 || hours) return `${hours ? String(h).padStart(2, '0') : h}:${String(m).padStart(2, '0')}:${s}`;
  return `${m}:${s}`;
}

/** The cause's fields as data (the mails put them in words). */
function causeText(cause: Cause): string {
  if (cause.kind === 'none') return '';
  const fields = Object.entries(cause)
    .filter(([key, value]) => key !== 'kind' && value !== null)
    .map(([key, value]) => `${key} ${typeof value === 'number' && key === 'share' ? percent(value) : String(value)}`);
  return `  (${cause.kind}${fields.length ? `: ${fields.join(', ')}` : ''})`;
}
