import type { Cause, HealthState } from './health.js';
import type { Message } from './message.js';
import type { IncidentStage, OfficialStatus, OfficialSummary } from './official.js';

/** What a mail quotes of the advice /health gave at that moment. */
export interface AdviceSummary {
  send: boolean;
  retryAfterSeconds: number | null;
  reason: string;
  /** The reason as words-to-be, for mails in other languages (absent in notifications written by older versions). */
  reasonMessage?: Message;
  alternative: string | null;
}

export type AlertKind =
  | 'overloaded'
  | 'down'
  | 'degraded'
  | 'reminder'
  | 'recovered'
  | 'flapping'
  | 'flapping_ended'
  | 'green_while_failing'
  | 'official_incident'
  | 'official_resolved'
  | 'budget_exhausted';

/** The figures a mail quotes: the short window at that moment. */
export interface Figures {
  samples: number;
  successRate: number | null;
  overloadRate: number | null;
  /** The 429 share (absent in notifications written by older versions). */
  rateLimitedRate?: number | null;
  p95Ms: number | null;
  /** The short window these figures cover, e.g. "5m" (absent in older notifications: 5 min). */
  window?: string;
}

/** What the rules see at one moment for one target. */
export interface Moment {
  targetId: string;
  at: number;
  status: HealthState;
  since: number;
  /** For a healthy target: how long it has been seen healthy with no change building (up to its latest outcome). */
  quietForMs?: number;
  cause: Cause;
  figures: Figures;
  advice: AdviceSummary;
  /** What the target's official status pages said then; null when none maps to it (absent in older notifications). */
  official?: OfficialSummary | null;
}

/** The provider's incident an official_incident / official_resolved notice is about. */
export interface OfficialIncidentNote {
  sourceId: string;
  title: string;
  url: string | null;
  stage: IncidentStage;
  impact: OfficialStatus;
  startedAt: number;
  endedAt: number | null;
  postedAt: number | null;
  /** First seen already resolved: posted after the fact, or while modelpulse was not polling. */
  afterTheFact: boolean;
  /** Every target the source speaks for. */
  targets: string[];
}

/** One notification, decided; rendering and delivery come later. */
export interface AlertDraft extends Moment {
  kind: AlertKind;
  /** For recovery, reminder and flapping summaries: the episode this closes or continues. */
  episode?: {
    startedAt: number;
    durationMs: number;
    worst: { status: HealthState; figures: Figures };
    changes?: number;
  };
  officialIncident?: OfficialIncidentNote;
  /** For green_while_failing: since when the target has held traffic, and the pages that say operational. */
  discrepancy?: { holdingSince: number; sources: string[] };
  /** For budget_exhausted: the day's budget, what was spent, and when probes resume (the next UTC midnight). */
  budget?: { perDayUsd: number; spentUsd: number; resumesAt: number };
}

export interface Episode {
  status: HealthState;
  startedAt: number;
  lastSentAt: number;
  worst: { status: HealthState; figures: Figures };
  /** A FLAPPING notice went out in this episode already. */
  flapped?: boolean;
}

/** Per-target alert memory; persisted with every change so a restart neither repeats nor loses a mail. */
export interface AlertState {
  /** The status once a minute (flap detection), whatever the probe cadence. */
  history: HealthState[];
  sampledAt: number | null;
  flapping: { since: number; changes: number; last: HealthState } | null;
  pending: { since: number } | null;
  open: Episode | null;
}
