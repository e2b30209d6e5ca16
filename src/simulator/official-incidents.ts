import { officialSettings, offsetAt, realTimeAt, traceLength, type Segment, type Trace } from './scenario.js';

/** How many trouble occurrences the provider keeps in its history. */
const MAX_OCCURRENCES = 50;

export type Impact = 'degraded_performance' | 'partial_outage' | 'major_outage';
export type Cause = 'errors' | 'timeouts';

export interface IncidentUpdate {
  stage: 'investigating' | 'resolved';
  at: number;
  body: string;
}

/** One occurrence of a trouble segment, as the simulated provider posts it. Times are real epoch ms. */
export interface SimulatedIncident {
  /** Stable per occurrence: `sim-<cycle>-<segment index>`. */
  id: string;
  title: string;
  cause: Cause;
  impact: Impact;
  /** When the trouble really began; the provider back-dates its incident to it. */
  beganAt: number;
  /** When the trouble really ended (the provider reports it only once resolved). */
  endedAt: number;
  postedAt: number;
  resolvedAt: number | null;
  /** Newest first; none later than now. */
  updates: IncidentUpdate[];
}

/** Everything the simulated provider's status pages say at one moment. */
export interface StatusPage {
  baseUrl: string;
  product: string;
  component: string;
  /** Posted incidents, newest first. */
  incidents: SimulatedIncident[];
  /** The latest update on the page, or when the simulator started. */
  updatedAt: number;
}

const TITLES: Record<Cause, string> = {
  errors: 'Elevated error rates for image generation',
  timeouts: 'Increased latency and timeouts',
};

const INVESTIGATING: Record<Cause, string> = {
  errors:
    'We are investigating elevated error rates for image generation requests. Some requests fail with 503 or 429 errors.',
  timeouts: 'We are investigating increased latency and timeouts for image generation requests.',
};

export function failureShare(segment: Segment): number {
  return segment.p503 + segment.p429 + segment.p500 + segment.pHang;
}

function causeOf(segment: Segment): Cause {
  return segment.pHang > segment.p503 + segment.p429 + segment.p500 ? 'timeouts' : 'errors';
}

function impactOf(segment: Segment): Impact {
  const share = failureShare(segment);
  return share >= 0.7 ? 'major_outage' : share >= 0.4 ? 'partial_outage' : 'degraded_performance';
}

interface TroubleSegment {
  segment: Segment;
  index: number;
}

interface Occurrence {
  id: string;
  segment: Segment;
  beganAt: number;
  endedAt: number;
}

/** The incidents posted by `now` for a trace started at `startedAt`, newest first, at most 50. */
export function officialIncidents(trace: Trace, startedAt: number, now: number): SimulatedIncident[] {
  const { lag, minShare } = officialSettings(trace);
  if (lag === 'never') return [];
  const trouble = trace.segments
    .map((segment, index) => ({ segment, index }))
    .filter(({ segment }) => failureShare(segment) >= minShare)
    .sort((a, b) => b.segment.start - a.segment.start);
  if (trouble.length === 0) return [];
  return occurrencesUpTo(trace, startedAt, offsetAt(trace, startedAt, now - lag), trouble).map((o) =>
    incident(o, lag, now),
  );
}

/**
 * Trouble occurrences that started by simulated offset `limit`, newest first; those that ended before
 * the simulator started are not history it served, so they are left out.
 */
function occurrencesUpTo(trace: Trace, startedAt: number, limit: number, trouble: TroubleSegment[]): Occurrence[] {
  const length = traceLength(trace);
  const first = offsetAt(trace, startedAt, startedAt);
  const [lastCycle, firstCycle] = trace.loop ? [Math.floor(limit / length), Math.floor(first / length)] : [0, 0];
  const found: Occurrence[] = [];
  for (let cycle = lastCycle; cycle >= firstCycle; cycle--) {
    for (const { segment, index } of trouble) {
      const start = cycle * length + segment.start;
      const end = start + segment.duration;
      if (start > limit || end <= first) continue;
      const real = (offset: number) => Math.round(realTimeAt(trace, startedAt, offset));
      found.push({ id: `sim-${cycle}-${index}`, segment, beganAt: real(start), endedAt: real(end) });
      if (found.length === MAX_OCCURRENCES) return found;
    }
  }
  return found;
}

function incident(o: Occurrence, lag: number, now: number): SimulatedIncident {
  const cause = causeOf(o.segment);
  const postedAt = o.beganAt + lag;
  const resolvedAt = o.endedAt + lag <= now ? o.endedAt + lag : null;
  const updates: IncidentUpdate[] = [{ stage: 'investigating', at: postedAt, body: INVESTIGATING[cause] }];
  if (resolvedAt !== null)
    updates.unshift({ stage: 'resolved', at: resolvedAt, body: 'This incident has been resolved.' });
  const { id, beganAt, endedAt } = o;
  return {
    id,
    title: TITLES[cause],
    cause,
    impact: impactOf(o.segment),
    beganAt,
    endedAt,
    postedAt,
    resolvedAt,
    updates,
  };
}

/** What the status pages show at `now`; `baseUrl` is where the simulator serves them. */
export function statusPage(trace: Trace, startedAt: number, now: number, baseUrl: string): StatusPage {
  const { product, component } = officialSettings(trace);
  const incidents = officialIncidents(trace, startedAt, now);
  const updatedAt = Math.max(startedAt, ...incidents.map((i) => i.updates[0]!.at));
  return { baseUrl, product, component, incidents, updatedAt };
}

// ---- Serving: routes, conditional GET and fault modes, described as data for the server to write.
