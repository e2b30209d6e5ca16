import type { AlertDraft, AlertKind, AlertState, Episode, Moment } from '../domain/alert.js';
import { holdsTraffic, TROUBLE } from '../domain/health.js';
import type { AlertKnobs } from '../config/alerts-schema.js';
import { isFlapping, remember } from './flapping.js';

export const INITIAL_ALERT_STATE: AlertState = {
  history: [],
  sampledAt: null,
  flapping: null,
  pending: null,
  open: null,
};

export const FLAP_SAMPLE_MS = 60_000;

/**
 * Pure: the alert state and one moment in, the new state and the notifications to enqueue out.
 * `observed` is true for a new outcome (it counts toward flap detection) and false for a heartbeat.
 */
export function decide(
  state: AlertState,
  moment: Moment,
  observed: boolean,
  knobs: AlertKnobs,
): { state: AlertState; drafts: AlertDraft[] } {
  const draft = (kind: AlertKind, episode?: AlertDraft['episode']): AlertDraft => ({
    kind,
    ...moment,
    ...(episode ? { episode } : {}),
  });
  const sample =
    moment.status !== 'unknown' && (state.sampledAt === null || moment.at - state.sampledAt >= FLAP_SAMPLE_MS);
  const history = sample ? remember(state.history, moment.status, knobs.flap) : state.history;
  const sampledAt = sample ? moment.at : state.sampledAt;
  const flapping = sample ? isFlapping(state.flapping !== null, history, knobs.flap) : state.flapping !== null;
  const worthy = holdsTraffic(moment.status) || (knobs.degraded && moment.status === 'degraded');

  // Flapping has died down but the target is not yet healthy for recoveredFor: still the same
  // flapping episode, as the incident is; the summary waits, and a relapse sends nothing new.
  const settling = !flapping && state.flapping !== null && !worthy && !recovered(moment, knobs);
  if (flapping || settling) {
    if (state.flapping) {
      const changed = observed && moment.status !== state.flapping.last && moment.status !== 'unknown';
      const next = {
        ...state.flapping,
        changes: state.flapping.changes + (changed ? 1 : 0),
        last: moment.status === 'unknown' ? state.flapping.last : moment.status,
      };
      return {
        state: { ...state, history, sampledAt, flapping: next, open: state.open && track(state.open, moment) },
        drafts: [],
      };
    }
    const open = state.open
      ? track(state.open, moment)
      : {
          status: moment.status,
          startedAt: moment.at,
          lastSentAt: moment.at,
          worst: { status: moment.status, figures: moment.figures },
        };
    // One FLAPPING notice per episode: flapping again after it settled into a bad state is held quietly.
    const notify = !state.open?.flapped;
    const flapped = { ...open, lastSentAt: notify ? moment.at : open.lastSentAt, flapped: true };
    return {
      state: {
        history,
        sampledAt,
        flapping: { since: moment.at, changes: 0, last: moment.status },
        pending: null,
        open: flapped,
      },
      drafts: notify ? [draft('flapping')] : [],
    };
  }

  if (state.flapping) {
    // Settled: one summary stands for all the changes held back; it opens or closes the episode.
    const open = state.open ? track(state.open, moment) : null;
    const summary = draft('flapping_ended', {
      startedAt: state.flapping.since,
      durationMs: Math.max(0, moment.at - state.flapping.since),
      worst: open?.worst ?? { status: moment.status, figures: moment.figures },
      changes: state.flapping.changes,
    });
    const stillBad = worthy
      ? {
          status: moment.status,
          startedAt: open?.startedAt ?? moment.at,
          lastSentAt: moment.at,
          worst: open?.worst ?? { status: moment.status, figures: moment.figures },
          flapped: true,
        }
      : null;
    return { state: { history, sampledAt, flapping: null, pending: null, open: stillBad }, drafts: [summary] };
  }

  if (state.open) {
    const open = track(state.open, moment);
    if (recovered(moment, knobs)) {
      const episode = {
        startedAt: open.startedAt,
        durationMs: Math.max(0, moment.since - open.startedAt),
        worst: open.worst,
      };
      return {
        state: { history, sampledAt, flapping: null, pending: null, open: null },
        drafts: knobs.sendOnResolved ? [draft('recovered', episode)] : [],
      };
    }
    // No reminder while it is healthy again (the recovery mail is due), and while data is stale
    // the reminder names the last state it was seen in, never "unknown".
    const remind =
      knobs.minimumReminderIntervalMs > 0 &&
      moment.status !== 'healthy' &&
      moment.at - open.lastSentAt >= knobs.minimumReminderIntervalMs;
    if (remind) {
      const episode = {
        startedAt: open.startedAt,
        durationMs: Math.max(0, moment.at - open.startedAt),
        worst: open.worst,
      };
      const reminder = {
        ...draft('reminder', episode),
        status: moment.status === 'unknown' ? open.status : moment.status,
      };
      return {
        state: { history, sampledAt, flapping: null, pending: null, open: { ...open, lastSentAt: moment.at } },
        drafts: [reminder],
      };
    }
    return { state: { history, sampledAt, flapping: null, pending: null, open }, drafts: [] };
  }

  if (!worthy) return { state: { history, sampledAt, flapping: null, pending: null, open: null }, drafts: [] };
  const pending = state.pending ?? { since: moment.since };
  if (moment.at - pending.since < knobs.pendingForMs)
    return { state: { history, sampledAt, flapping: null, pending, open: null }, drafts: [] };
  const kind = moment.status === 'degraded' ? 'degraded' : moment.status === 'down' ? 'down' : 'overloaded';
  const open: Episode = {
    status: moment.status,
    startedAt: pending.since,
    lastSentAt: moment.at,
    worst: { status: moment.status, figures: moment.figures },
  };
  return { state: { history, sampledAt, flapping: null, pending: null, open }, drafts: [draft(kind)] };
}

/** Seen healthy, with no change building, for recoveredFor: the episode is over (as its incident is). */
function recovered(moment: Moment, knobs: AlertKnobs): boolean {
  return moment.status === 'healthy' && (moment.quietForMs ?? moment.at - moment.since) >= knobs.recoveredForMs;
}

/** Keeps the worst moment of an episode: the most severe status, then the lowest success rate. */
function track(open: Episode, moment: Moment): Episode {
  const worse =
    TROUBLE[moment.status] > TROUBLE[open.worst.status] ||
    (TROUBLE[moment.status] === TROUBLE[open.worst.status] &&
      TROUBLE[moment.status] > 0 &&
      (moment.figures.successRate ?? 1) < (open.worst.figures.successRate ?? 1));
  const status = moment.status === 'unknown' ? open.status : moment.status;
  return { ...open, status, worst: worse ? { status: moment.status, figures: moment.figures } : open.worst };
}
