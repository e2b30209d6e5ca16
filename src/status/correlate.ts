import type { OfficialIncident, OfficialStatus, OfficialSummary, OfficialView } from '../domain/official.js';
import { OFFICIAL_SEVERITY } from '../domain/official.js';

const MINUTE = 60_000;
/** An incident the provider never acknowledged counts as this late. */
export const NEVER_ACKNOWLEDGED_MINUTES = 240;
export const GRADE_WINDOW_MS = 90 * 24 * 60 * MINUTE;

/** Per target: how long it has held traffic, and whether "green while failing" is raised. */
export interface DiscrepancyState {
  holdingSince: number | null;
  raisedAt: number | null;
  /** The last time, in this holding run, that a page admitted trouble: the green clock restarts after it. */
  admittedAt: number | null;
}

export const NO_DISCREPANCY: DiscrepancyState = { holdingSince: null, raisedAt: null, admittedAt: null };

export interface DiscrepancyInput {
  at: number;
  /** The target holds traffic for a provider-side cause; null while its data is stale (no change). */
  holding: boolean | null;
  /** When the current holding run began, as the health engine says. */
  since: number;
  /** Every mapped page says operational with nothing open (true), one admits trouble (false), or none admits trouble but one is unknown (null: no change). */
  green: boolean | null;
}

export type DiscrepancyEvent =
  | { kind: 'raised'; at: number; holdingSince: number }
  | { kind: 'cleared'; at: number; by: 'acknowledged' | 'recovered' };

/**
 * Pure: "status page green while failing" is raised once a target has held traffic for `afterMs`
 * while every page it maps to says operational; it clears when the provider posts or we recover.
 * A page that admits trouble restarts the clock: raising again within the same run takes another
 * `afterMs` of green, so a page flapping with each poll never raises one flag per poll.
 */
export function stepDiscrepancy(
  state: DiscrepancyState,
  input: DiscrepancyInput,
  afterMs: number,
): { state: DiscrepancyState; event: DiscrepancyEvent | null } {
  if (input.holding === null) return { state, event: null };
  if (!input.holding) {
    const event = state.raisedAt === null ? null : ({ kind: 'cleared', at: input.at, by: 'recovered' } as const);
    return { state: NO_DISCREPANCY, event };
  }
  const holdingSince = Math.min(state.holdingSince ?? input.since, input.since);
  const admittedAt = state.admittedAt;
  if (input.green === null) return { state: { holdingSince, raisedAt: state.raisedAt, admittedAt }, event: null };
  if (!input.green) {
    const event = state.raisedAt === null ? null : ({ kind: 'cleared', at: input.at, by: 'acknowledged' } as const);
    return { state: { holdingSince, raisedAt: null, admittedAt: input.at }, event };
  }
  if (state.raisedAt !== null) return { state: { holdingSince, raisedAt: state.raisedAt, admittedAt }, event: null };
  if (input.at - Math.max(holdingSince, admittedAt ?? holdingSince) >= afterMs) {
    return {
      state: { holdingSince, raisedAt: input.at, admittedAt },
      event: { kind: 'raised', at: input.at, holdingSince },
    };
  }
  return { state: { holdingSince, raisedAt: null, admittedAt }, event: null };
}

/** An official incident with when we first saw it (the acknowledgement moment when the feed gives no post time). */
export interface SeenIncident extends OfficialIncident {
  sourceId: string;
  firstSeenAt: number;
}

export type Acknowledgement =
  | { kind: 'acknowledged'; acknowledgedAt: number; delayMinutes: number; incidentUrl: string | null; sourceId: string }
  | { kind: 'pending' }
  | { kind: 'never'; delayMinutes: number };

/** When the provider said so: its own post time, or when we first saw it if earlier or unknown. */
export function acknowledgedAt(incident: SeenIncident): number {
  return incident.postedAt === null ? incident.firstSeenAt : Math.min(incident.postedAt, incident.firstSeenAt);
}

/**
 * Pure: the first official incident that overlaps our episode in time acknowledges it; the delay
 * runs from our onset to the provider's post (negative when the provider was first). An old
 * incident resolved before our onset acknowledges nothing.
 */
export function acknowledgement(
  ours: { startedAt: number; endedAt: number | null },
  official: readonly SeenIncident[],
  now: number,
): Acknowledgement {
  const oursEnd = ours.endedAt ?? now;
  const overlapping = official.filter(
    (i) => i.startedAt <= oursEnd && (i.endedAt === null || i.endedAt >= ours.startedAt),
  );
  const first = overlapping.sort((a, b) => acknowledgedAt(a) - acknowledgedAt(b))[0];
  if (first) {
    const at = acknowledgedAt(first);
    return {
      kind: 'acknowledged',
      acknowledgedAt: at,
      delayMinutes: roundMinutes(at - ours.startedAt),
      incidentUrl: first.url,
      sourceId: first.sourceId,
    };
  }
  if (now - ours.startedAt < NEVER_ACKNOWLEDGED_MINUTES * MINUTE) return { kind: 'pending' };
  return { kind: 'never', delayMinutes: NEVER_ACKNOWLEDGED_MINUTES };
}

export type Grade = 'A' | 'B' | 'C' | 'D' | 'F';

/** A < 15 min, B < 30 min, C < 2 h, D < 4 h, F beyond: graded on the median delay (a provider ahead of us counts as 0). */
export function grade(delaysMinutes: readonly number[]): { grade: Grade | null; medianMinutes: number | null } {
  if (delaysMinutes.length === 0) return { grade: null, medianMinutes: null };
  const sorted = delaysMinutes.map((d) => Math.max(0, d)).sort((a, b) => a - b);
  const middle = sorted.length / 2;
  const median = sorted.length % 2 === 1 ? sorted[Math.floor(middle)]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  const letter: Grade = median < 15 ? 'A' : median < 30 ? 'B' : median < 120 ? 'C' : median < 240 ? 'D' : 'F';
  return { grade: letter, medianMinutes: roundMinutes(median * MINUTE) };
}

/** What the target's sources say, folded into one line: the worst source wins, fresh before stale. */
export function summarize(
  views: readonly OfficialView[],
  ours: { troubled: boolean | null },
  greenWhileFailingSince: number | null,
): OfficialSummary | null {
  if (views.length === 0) return null;
  const rank = (v: OfficialView) =>
    OFFICIAL_SEVERITY[v.status] * 4 + (v.status === 'unknown' ? 0 : 2) + (v.stale ? 0 : 1);
  const main = [...views].sort((a, b) => rank(b) - rank(a))[0]!;
  const open = views.flatMap((v) => v.open).sort((a, b) => b.startedAt - a.startedAt)[0];
  const status: OfficialStatus = views.every((v) => v.status === 'unknown') ? 'unknown' : main.status;
  const theyTroubled = status === 'unknown' ? null : OFFICIAL_SEVERITY[status] > 0 || open !== undefined;
  return {
    status,
    sourceId: main.sourceId,
    stale: main.stale,
    incident: open ? { title: open.title, url: open.url, startedAt: open.startedAt } : null,
    agrees: ours.troubled === null || theyTroubled === null ? null : ours.troubled === theyTroubled,
    greenWhileFailingSince,
  };
}

/** Every mapped source is known and says operational, with nothing open. */
export function allGreen(views: readonly OfficialView[]): boolean {
  return views.length > 0 && views.every((v) => v.status === 'operational' && v.open.length === 0);
}

/** What the pages say together: all green, some admit trouble, or nothing either way (a page unknown, none admitting). */
export function pagesSay(views: readonly OfficialView[]): boolean | null {
  if (allGreen(views)) return true;
  const admits = views.some((v) => v.status !== 'unknown' && (v.status !== 'operational' || v.open.length > 0));
  return admits ? false : null;
}

function roundMinutes(ms: number): number {
  return Math.round(ms / 6_000) / 10;
}
