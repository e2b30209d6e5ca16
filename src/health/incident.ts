import { TROUBLE, type Incident, type Transition } from '../domain/health.js';

/**
 * Pure: keeps the figures at the incident's peak. While the target is in its worst state, a
 * short window with a lower success rate than the recorded peak becomes the new peak; null when
 * nothing changes.
 */
export function applyObservation(open: Incident, status: HealthState, figures: WindowStats): Incident | null {
  if (status !== open.worstState || figures.successRate === null) return null;
  const peakSuccess = open.peak.successRate ?? 1;
  return figures.successRate < peakSuccess ? { ...open, peak: figures } : null;
}

/**
 * Pure: what a transition does to the target's open incident. Stale data (unknown) neither opens
 * nor closes one: missing data is never a recovery. Healthy again does not close it either: it
 * closes once healthy has lasted `recoveredFor` (see closeIfRecovered), so a relapse sooner
 * continues the same incident, as the alert mails count it.
 */
export function applyTransition(open: Incident | null, transition: Transition): Incident | null {
  const trouble = TROUBLE[transition.to] > 0;
  if (!open) {
    if (!trouble) return null;
    return {
      id: null,
      targetId: transition.targetId,
      startedAt: transition.at,
      endedAt: null,
      state: transition.to,
      worstState: transition.to,
      cause: transition.cause,
      peak: transition.figures,
    };
  }
  if (transition.to === 'unknown') return { ...open, state: 'unknown' };
  if (transition.to === 'healthy') return { ...open, state: 'healthy' };
  const worse = TROUBLE[transition.to] > TROUBLE[open.worstState];
  return {
    ...open,
    state: transition.to,
    worstState: worse ? transition.to : open.worstState,
    cause: worse ? transition.cause : open.cause,
    peak: worse ? transition.figures : open.peak,
  };
}
import type { HealthState, WindowStats } from '../domain/health.js';

/**
 * Pure: closes an incident whose target has been healthy, with no new change building, since
 * `quietSince` for recoveredForMs; null when it stays open. A 503 blip in that time restarts the wait.
 */
export function closeIfRecovered(
  open: Incident,
  quietSince: number | null,
  now: number,
  recoveredForMs: number,
): Incident | null {
  if (open.state !== 'healthy' || quietSince === null || now - quietSince < recoveredForMs) return null;
  // Never before it started, though the clock went back in between.
  return { ...open, endedAt: Math.max(quietSince, open.startedAt) };
}
