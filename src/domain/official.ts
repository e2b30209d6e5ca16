/** What a provider's status page says, in one vocabulary whatever its format. */
export const OFFICIAL_STATUSES = [
  'operational',
  'degraded',
  'partial_outage',
  'major_outage',
  'maintenance',
  'unknown',
] as const;
export type OfficialStatus = (typeof OFFICIAL_STATUSES)[number];

/** Where an official incident stands in its own lifecycle (not how bad it is). */
export const INCIDENT_STAGES = ['investigating', 'identified', 'monitoring', 'resolved'] as const;
export type IncidentStage = (typeof INCIDENT_STAGES)[number];

/** How bad a status is, for picking the worst of several; maintenance ranks as degraded, unknown as nothing. */
export const OFFICIAL_SEVERITY: Record<OfficialStatus, number> = {
  unknown: 0,
  operational: 0,
  maintenance: 1,
  degraded: 1,
  partial_outage: 2,
  major_outage: 3,
};

/** The worst of several statuses; operational when there are none. */
export function worstOfficial(statuses: Iterable<OfficialStatus>): OfficialStatus {
  let worst: OfficialStatus = 'operational';
  for (const status of statuses) if (OFFICIAL_SEVERITY[status] > OFFICIAL_SEVERITY[worst]) worst = status;
  return worst;
}

/** One incident as the provider posted it, normalized. Times are epoch milliseconds. */
export interface OfficialIncident {
  /** The source's own id (Google incident id, Statuspage incident id, feed guid or link). */
  id: string;
  /** The latest title (Google's `current_title` when present). */
  title: string;
  stage: IncidentStage;
  /** How bad the provider says it is, in the status vocabulary (never `unknown` when the feed says nothing: `degraded`). */
  impact: OfficialStatus;
  /** When the provider says the trouble began (may be back-dated before it was posted). */
  startedAt: number;
  /** When it ended; null while unresolved. */
  endedAt: number | null;
  /** When the provider first posted it (Google `created`, Statuspage `created_at`, a feed's first update); null if the payload does not say. */
  postedAt: number | null;
  url: string | null;
  /** Product or component names the incident names, as the provider spells them. */
  affected: string[];
  /**
   * Where it is happening, as Google location ids ("us-central1", "global"); absent or empty: everywhere
   * (Statuspage and feeds never say, nor do incidents stored before locations were kept).
   */
  locations?: string[];
}

/** What one successful fetch of a source says, after filtering to the configured products or components. */
export interface OfficialReading {
  status: OfficialStatus;
  /** Every matching incident in the payload, resolved or not. */
  incidents: OfficialIncident[];
}

/** A source as the service sees it now: its last reading, and whether that is still fresh. */
export interface OfficialView {
  sourceId: string;
  /** `unknown` once the last good reading is older than 3 × the poll interval, or before the first. */
  status: OfficialStatus;
  /** The last reading failed or is overdue; status and incidents are the last known ones. */
  stale: boolean;
  /** When the last good reading arrived; null before the first. */
  fetchedAt: number | null;
  /** Why the last fetch failed, in words (no secrets); null after a good one. */
  error: string | null;
  /** Unresolved incidents of the last good reading. */
  open: OfficialIncident[];
}

/** The status-page formats modelpulse reads. */
export const SOURCE_KINDS = ['google-cloud', 'statuspage', 'feed'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

/** What a target's official sources say at one moment, as /health and the alert mails quote it. */
export interface OfficialSummary {
  status: OfficialStatus;
  /** The source the status comes from (the worst of the target's sources). */
  sourceId: string;
  stale: boolean;
  /** The newest unresolved incident of the target's sources, if any. */
  incident: { title: string; url: string | null; startedAt: number } | null;
  /** Whether what we see and what the provider says agree; null when either side is unknown. */
  agrees: boolean | null;
  /** Since when "status page green while failing" has been raised for the target; null when it is not. */
  greenWhileFailingSince: number | null;
}

/** "Status page green while failing": a target held traffic past the threshold while every page it maps to said operational. */
export interface Discrepancy {
  id: number | null;
  targetId: string;
  /** When the target began holding traffic. */
  holdingSince: number;
  raisedAt: number;
  clearedAt: number | null;
  /** Why it cleared: the provider posted, or we recovered. */
  clearedBy: 'acknowledged' | 'recovered' | null;
  sources: string[];
}
